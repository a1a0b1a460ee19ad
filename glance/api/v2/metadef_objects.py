"""``/v2/metadefs/namespaces/{namespace}/objects[/{object_name}]``: an object is a named
group of property definitions (with the names that are required)."""

from glance.api import resource
from glance.api.v2 import metadef_list
from glance.api.v2 import metadef_view
from glance.db import metadefs as db
from glance.metadef import service


def _path(namespace):
    return '/v2/metadefs/namespaces/%s/objects' % metadef_view._quote(namespace)


class Controller:

    def index(self, req, namespace, **params):
        return {'namespace': namespace,
                'objects': service.list_objects(req.context, namespace, **params)}

    def create(self, req, namespace, body):
        return {'namespace': namespace,
                'object': service.create_object(req.context, namespace, body)}

    def show(self, req, namespace, object_name):
        return {'namespace': namespace,
                'object': service.get_object(req.context, namespace, object_name)}

    def update(self, req, namespace, object_name, body):
        return {'namespace': namespace,
                'object': service.update_object(req.context, namespace, object_name, body)}

    def delete(self, req, namespace, object_name):
        service.delete_object(req.context, namespace, object_name)

    def delete_all(self, req, namespace):
        service.delete_objects(req.context, namespace)


class RequestDeserializer:

    def index(self, req):
        return metadef_list.parse(req.params, db.CHILD_SORT_KEYS)

    def create(self, req):
        return {'body': metadef_view.writable(resource.json_body(req), 'object')}

    update = create


class ResponseSerializer:

    def index(self, resp, result):
        limit = metadef_list.parse(resp.request.params, db.CHILD_SORT_KEYS)['limit']
        body = {'objects': [metadef_view.object_(o, result['namespace'])
                            for o in result['objects']],
                'schema': '/v2/schemas/metadefs/objects'}
        body.update(metadef_list.links(resp.request, _path(result['namespace']),
                                       result['objects'], limit, lambda o: o['name']))
        resource.json_response(resp, body)

    def create(self, resp, result):
        view = metadef_view.object_(result['object'], result['namespace'])
        resource.json_response(resp, view, status=201)
        resp.location = view['self']

    def show(self, resp, result):
        resource.json_response(resp, metadef_view.object_(result['object'],
                                                          result['namespace']))

    update = show


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
