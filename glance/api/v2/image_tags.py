"""``PUT`` and ``DELETE /v2/images/{id}/tags/{tag}``."""

from glance.api import resource
from glance.image import service


class Controller:

    def update(self, req, image_id, tag_value):
        service.add_tag(req.context, image_id, tag_value)

    def delete(self, req, image_id, tag_value):
        service.delete_tag(req.context, image_id, tag_value)


def create_resource():
    return resource.Resource(Controller())
