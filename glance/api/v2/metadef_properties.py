"""``/v2/metadefs/namespaces/{namespace}/properties[/{property_name}]``: property
definitions (a title, a type and JSON-schema constraints a UI validates values with)."""

from glance.api import resource
from glance.api.v2 import metadef_view
from glance.metadef import schema
from glance.metadef import service


class Controller:

    def index(self, req, namespace):
        return service.list_properties(req.context, namespace)

    def create(self, req, namespace, body):
        return service.create_property(req.context, namespace, body)

    def show(self, req, namespace, property_name):
        return service.get_property(req.context, namespace, property_name,
                                    resource_type=req.params.get('resource_type'))

    def update(self, req, namespace, property_name, body):
        return service.update_property(req.context, namespace, property_name, body)

    def delete(self, req, namespace, property_name):
        service.delete_property(req.context, namespace, property_name)

    def delete_all(self, req, namespace):
        service.delete_properties(req.context, namespace)


class RequestDeserializer:

    def create(self, req):
        body = resource.json_body(req)
        schema.validate('property', body)
        return {'body': body}

    update = create


class ResponseSerializer:

    def index(self, resp, props):
        resource.json_response(resp, {'properties': metadef_view.properties(props),
                                      'schema': '/v2/schemas/metadefs/properties'})

    def create(self, resp, prop):
        resource.json_response(resp, metadef_view.property_(prop), status=201)

    def show(self, resp, prop):
        resource.json_response(resp, metadef_view.property_(prop))

    update = show


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
