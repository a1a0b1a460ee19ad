"""The Images API v2 routes: each path, its methods, and the controller action they reach."""

from glance.api import resource
from glance.api.v2 import cache
from glance.api.v2 import housekeeping
from glance.api.v2 import image_actions
from glance.api.v2 import image_data
from glance.api.v2 import image_direct_link
from glance.api.v2 import image_import
from glance.api.v2 import image_locations
from glance.api.v2 import image_members
from glance.api.v2 import image_tags
from glance.api.v2 import images
from glance.api.v2 import metadef_namespaces
from glance.api.v2 import metadef_objects
from glance.api.v2 import metadef_properties
from glance.api.v2 import metadef_resource_types
from glance.api.v2 import metadef_schemas
from glance.api.v2 import metadef_tags
from glance.api.v2 import schemas
from glance.api.v2 import tasks
from glance.image import property_protections
from glance.store import backend


class API:
    """The /v2 application (paste app factory ``glance.api.v2.router:API.factory``)."""

    @classmethod
    def factory(cls, global_conf, **local_conf):
        backend.configure()
        property_protections.reload()  # a bad rules file stops glance-api here
        return cls.build()

    @staticmethod
    def build():
        router = resource.Router()
        schemas_resource = schemas.create_resource()
        for name in ('image', 'images', 'member', 'members', 'task', 'tasks'):
            router.connect('/v2/schemas/%s' % name, schemas_resource, name, 'GET')

        images_resource = images.create_resource()
        router.connect('/v2/images', images_resource, 'index', 'GET')
        router.connect('/v2/images', images_resource, 'create', 'POST')
        router.connect('/v2/images/{image_id}', images_resource, 'show', 'GET')
        router.connect('/v2/images/{image_id}', images_resource, 'update', 'PATCH')
        router.connect('/v2/images/{image_id}', images_resource, 'delete', 'DELETE')

        data_resource = image_data.create_resource()
        router.connect('/v2/images/{image_id}/file', data_resource, 'upload', 'PUT')
        router.connect('/v2/images/{image_id}/file', data_resource, 'download', 'GET')
        router.connect('/v2/info/stores', data_resource, 'stores', 'GET')
        router.connect('/v2/info/stores/detail', data_resource, 'stores_detail', 'GET')
        router.connect('/v2/stores/{store_id}/{image_id}', data_resource, 'delete_from_store',
                       'DELETE')
        router.connect('/v2/images/{image_id}/direct-link', image_direct_link.create_resource(),
                       'show', 'GET')

        locations_resource = image_locations.create_resource()
        router.connect('/v2/images/{image_id}/locations', locations_resource, 'create', 'POST')
        router.connect('/v2/images/{image_id}/locations', locations_resource, 'index', 'GET')

        import_resource = image_import.create_resource()
        router.connect('/v2/images/{image_id}/stage', import_resource, 'stage', 'PUT')
        router.connect('/v2/images/{image_id}/import', import_resource, 'import_image',
                       'POST')
        router.connect('/v2/info/import', import_resource, 'info', 'GET')
        router.connect('/v2/info/usage', import_resource, 'usage', 'GET')

        tasks_resource = tasks.create_resource()
        router.connect('/v2/tasks', tasks_resource, 'index', 'GET')
        router.connect('/v2/tasks', tasks_resource, 'create', 'POST')
        router.connect('/v2/tasks/{task_id}', tasks_resource, 'show', 'GET')
        router.connect('/v2/images/{image_id}/tasks', tasks_resource, 'image_tasks', 'GET')

        members_resource = image_members.create_resource()
        router.connect('/v2/images/{image_id}/members', members_resource, 'index', 'GET')
        router.connect('/v2/images/{image_id}/members', members_resource, 'create', 'POST')
        router.connect('/v2/images/{image_id}/members/{member_id}', members_resource, 'show',
                       'GET')
        router.connect('/v2/images/{image_id}/members/{member_id}', members_resource,
                       'update', 'PUT')
        router.connect('/v2/images/{image_id}/members/{member_id}', members_resource,
                       'delete', 'DELETE')

        tags_resource = image_tags.create_resource()
        router.connect('/v2/images/{image_id}/tags/{tag_value}', tags_resource, 'update',
                       'PUT')
        router.connect('/v2/images/{image_id}/tags/{tag_value}', tags_resource, 'delete',
                       'DELETE')

        actions_resource = image_actions.create_resource()
        router.connect('/v2/images/{image_id}/actions/deactivate', actions_resource,
                       'deactivate', 'POST')
        router.connect('/v2/images/{image_id}/actions/reactivate', actions_resource,
                       'reactivate', 'POST')
        cache_resource = cache.create_resource()
        router.connect('/v2/cache', cache_resource, 'index', 'GET')
        router.connect('/v2/cache', cache_resource, 'clear', 'DELETE')
        router.connect('/v2/cache/metrics', cache_resource, 'metrics', 'GET')
        router.connect('/v2/cache/prune', cache_resource, 'prune', 'POST')
        router.connect('/v2/cache/{image_id}', cache_resource, 'queue', 'PUT')
        router.connect('/v2/cache/{image_id}', cache_resource, 'delete', 'DELETE')
        router.connect('/v2/housekeeping/metrics', housekeeping.create_resource(), 'metrics',
                       'GET')
        _connect_metadefs(router)
        return router.finish()


def _connect_metadefs(router):
    """The metadata definitions catalog: namespaces and what is in them."""
    router.connect('/v2/schemas/metadefs/{name}', metadef_schemas.create_resource(), 'show',
                   'GET')
    namespaces = metadef_namespaces.create_resource()
    ns = '/v2/metadefs/namespaces/{namespace}'
    router.connect('/v2/metadefs/namespaces', namespaces, 'index', 'GET')
    router.connect('/v2/metadefs/namespaces', namespaces, 'create', 'POST')
    router.connect(ns, namespaces, 'show', 'GET')
    router.connect(ns, namespaces, 'update', 'PUT')
    router.connect(ns, namespaces, 'delete', 'DELETE')

    resource_types = metadef_resource_types.create_resource()
    router.connect('/v2/metadefs/resource_types', resource_types, 'index', 'GET')
    router.connect(ns + '/resource_types', resource_types, 'show', 'GET')
    router.connect(ns + '/resource_types', resource_types, 'create', 'POST')
    router.connect(ns + '/resource_types/{resource_type}', resource_types, 'delete',
                   'DELETE')

    objects = metadef_objects.create_resource()
    router.connect(ns + '/objects', objects, 'index', 'GET')
    router.connect(ns + '/objects', objects, 'create', 'POST')
    router.connect(ns + '/objects', objects, 'delete_all', 'DELETE')
    router.connect(ns + '/objects/{object_name}', objects, 'show', 'GET')
    router.connect(ns + '/objects/{object_name}', objects, 'update', 'PUT')
    router.connect(ns + '/objects/{object_name}', objects, 'delete', 'DELETE')

    properties = metadef_properties.create_resource()
    router.connect(ns + '/properties', properties, 'index', 'GET')
    router.connect(ns + '/properties', properties, 'create', 'POST')
    router.connect(ns + '/properties', properties, 'delete_all', 'DELETE')
    router.connect(ns + '/properties/{property_name}', properties, 'show', 'GET')
    router.connect(ns + '/properties/{property_name}', properties, 'update', 'PUT')
    router.connect(ns + '/properties/{property_name}', properties, 'delete', 'DELETE')

    tags = metadef_tags.create_resource()
    router.connect(ns + '/tags', tags, 'index', 'GET')
    router.connect(ns + '/tags', tags, 'create_many', 'POST')
    router.connect(ns + '/tags', tags, 'delete_all', 'DELETE')
    router.connect(ns + '/tags/{tag_name}', tags, 'show', 'GET')
    router.connect(ns + '/tags/{tag_name}', tags, 'create', 'POST')
    router.connect(ns + '/tags/{tag_name}', tags, 'update', 'PUT')
    router.connect(ns + '/tags/{tag_name}', tags, 'delete', 'DELETE')
