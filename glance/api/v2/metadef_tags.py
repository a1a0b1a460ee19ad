"""``/v2/metadefs/namespaces/{namespace}/tags[/{tag_name}]``: tags one at a time, and in
bulk (``POST .../tags`` replaces the namespace's tags, or adds to them with the header
``X-Openstack-Append: true``)."""

from glance.api import resource
from glance.api.v2 import list_params
from glance.api.v2 import metadef_list
from glance.api.v2 import metadef_view
from glance.common import exception
from glance.db import metadefs as db
from glance.metadef import schema
from glance.metadef import service


def _path(namespace):
    return '/v2/metadefs/namespaces/%s/tags' % metadef_view._quote(namespace)


class Controller:

    def index(self, req, namespace, **params):
        return {'namespace': namespace,
                'tags': service.list_tags(req.context, namespace, **params)}

    def create(self, req, namespace, tag_name):
        return service.create_tag(req.context, namespace, tag_name)

    def create_many(self, req, namespace, names, append):
        return {'namespace': namespace,
                'tags': service.create_tags(req.context, namespace, names, append=append)}

    def show(self, req, namespace, tag_name):
        return service.get_tag(req.context, namespace, tag_name)

    def update(self, req, namespace, tag_name, new_name):
        return service.update_tag(req.context, namespace, tag_name, new_name)

    def delete(self, req, namespace, tag_name):
        service.delete_tag(req.context, namespace, tag_name)

    def delete_all(self, req, namespace):
        service.delete_tags(req.context, namespace)


class RequestDeserializer:

    def index(self, req):
        return metadef_list.parse(req.params, db.CHILD_SORT_KEYS)

    def create(self, req):
        name = req.environ['wsgiorg.routing_args'][1]['tag_name']
        schema.validate('tag', {'name': name})
        return {}

    def create_many(self, req):
        body = resource.json_body(req)
        if not isinstance(body, dict) or not isinstance(body.get('tags'), list):
            raise exception.BadRequest('The body must be {"tags": [{"name": ...}, ...]}.')
        for tag in body['tags']:
            metadef_view.writable(tag, 'tag')
        append = list_params._bool('X-Openstack-Append',
                                   req.headers.get('X-Openstack-Append', 'false'))
        return {'names': [t['name'] for t in body['tags']], 'append': append}

    def update(self, req):
        body = metadef_view.writable(resource.json_body(req), 'tag')
        return {'new_name': body['name']}


class ResponseSerializer:

    def index(self, resp, result):
        limit = metadef_list.parse(resp.request.params, db.CHILD_SORT_KEYS)['limit']
        body = {'tags': [metadef_view.tag(t) for t in result['tags']],
                'schema': '/v2/schemas/metadefs/tags'}
        body.update(metadef_list.links(resp.request, _path(result['namespace']),
                                       result['tags'], limit, lambda t: t['name']))
        resource.json_response(resp, body)

    def create(self, resp, tag):
        resource.json_response(resp, metadef_view.tag(tag), status=201)

    def create_many(self, resp, result):
        resource.json_response(resp, {'tags': [{'name': t['name']} for t in result['tags']]},
                               status=201)

    def show(self, resp, tag):
        resource.json_response(resp, metadef_view.tag(tag))

    update = show


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
