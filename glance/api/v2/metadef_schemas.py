"""``GET /v2/schemas/metadefs/{namespace,namespaces,object,objects,property,properties,
tag,tags,resource_type,resource_types}``: the schemas of glance/metadef/schema.py."""

from glance.api import resource
from glance.common import exception
from glance.metadef import schema


class Controller:

    def show(self, req, name):
        if name not in schema.SCHEMAS:
            raise exception.NotFound('There is no metadefs schema named %s.' % name)
        return schema.SCHEMAS[name]()


def create_resource():
    return resource.Resource(Controller())
