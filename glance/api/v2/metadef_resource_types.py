"""``/v2/metadefs/resource_types`` and a namespace's resource type associations
(``/v2/metadefs/namespaces/{namespace}/resource_types[/{resource_type}]``).

Associating a resource type the catalog does not know yet creates it, as upstream does.
"""

from glance.api import resource
from glance.api.v2 import metadef_view
from glance.metadef import service


class Controller:

    def index(self, req):
        return service.list_resource_types(req.context)

    def show(self, req, namespace):
        return service.list_associations(req.context, namespace)

    def create(self, req, namespace, body):
        return service.associate(req.context, namespace, body)

    def delete(self, req, namespace, resource_type):
        service.deassociate(req.context, namespace, resource_type)


class RequestDeserializer:

    def create(self, req):
        return {'body': metadef_view.writable(resource.json_body(req), 'resource_type')}


class ResponseSerializer:

    def index(self, resp, resource_types):
        resource.json_response(resp, {'resource_types': [metadef_view.resource_type(r)
                                                         for r in resource_types]})

    def show(self, resp, associations):
        resource.json_response(resp, {'resource_type_associations': [
            metadef_view.association(a) for a in associations]})

    def create(self, resp, association):
        resource.json_response(resp, metadef_view.association(association), status=201)


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
