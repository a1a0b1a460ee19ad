"""``GET /v2/schemas/{image,images,member,members,task,tasks}``: the JSON schemas clients
validate with."""

from glance.api import resource


class Controller:
    """Serve the schemas built by the image and member schema modules."""

    def image(self, req):
        from glance.api.v2 import image_schema
        return image_schema.get_schema()

    def images(self, req):
        from glance.api.v2 import image_schema
        return image_schema.get_collection_schema()

    def member(self, req):
        from glance.api.v2 import member_schema
        return member_schema.get_schema()

    def members(self, req):
        from glance.api.v2 import member_schema
        return member_schema.get_collection_schema()

    def task(self, req):
        from glance.api.v2 import task_schema
        return task_schema.get_schema()

    def tasks(self, req):
        from glance.api.v2 import task_schema
        return task_schema.get_collection_schema()


def create_resource():
    return resource.Resource(Controller())
