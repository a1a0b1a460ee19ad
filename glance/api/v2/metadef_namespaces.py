"""``/v2/metadefs/namespaces`` and ``/v2/metadefs/namespaces/{namespace}``.

Create (with properties, objects, tags and resource type associations inline), list
(visibility, resource_types, paging, sorting), show (``?resource_type=`` applies that
association's prefix), replace (PUT), delete (403 while protected).
"""

from glance.api import resource
from glance.api.v2 import metadef_list
from glance.api.v2 import metadef_view
from glance.common import exception
from glance.db import metadefs as db
from glance.metadef import service

_PATH = '/v2/metadefs/namespaces'


class Controller:

    def index(self, req, **params):
        return service.list_namespaces(req.context, **params)

    def create(self, req, body):
        return service.create_namespace(req.context, body)

    def show(self, req, namespace):
        return service.get_namespace(req.context, namespace,
                                     resource_type=req.params.get('resource_type'))

    def update(self, req, namespace, body):
        return service.update_namespace(req.context, namespace, body)

    def delete(self, req, namespace):
        service.delete_namespace(req.context, namespace)


class RequestDeserializer:

    def index(self, req):
        params = metadef_list.parse(req.params, db.NAMESPACE_SORT_KEYS,
                                    extra=('visibility', 'resource_types'))
        if params.get('visibility') not in (None, 'public', 'private'):
            raise exception.InvalidParameterValue(
                value=params['visibility'], param='visibility',
                extra_msg='must be public or private')
        if 'resource_types' in params:
            params['resource_types'] = [r.strip() for r in params['resource_types'].split(',')
                                        if r.strip()]
        return params

    def create(self, req):
        return {'body': metadef_view.writable(resource.json_body(req), 'namespace')}

    def update(self, req):
        body = metadef_view.writable(resource.json_body(req), 'namespace')
        # Clients PUT back the namespace they were shown, content included: the content
        # has resources of its own and is left as it is here (as upstream does).
        for name in ('properties', 'objects', 'tags', 'resource_type_associations'):
            body.pop(name, None)
        return {'body': body}


class ResponseSerializer:

    def index(self, resp, namespaces):
        limit = metadef_list.parse(resp.request.params, db.NAMESPACE_SORT_KEYS)['limit']
        body = {'namespaces': [metadef_view.namespace(n) for n in namespaces],
                'schema': '/v2/schemas/metadefs/namespaces'}
        body.update(metadef_list.links(resp.request, _PATH, namespaces, limit,
                                       lambda n: n['namespace']))
        resource.json_response(resp, body)

    def create(self, resp, namespace):
        view = metadef_view.namespace(namespace)
        resource.json_response(resp, view, status=201)
        resp.location = view['self']

    def show(self, resp, namespace):
        resource.json_response(resp, metadef_view.namespace(namespace))

    update = show


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
