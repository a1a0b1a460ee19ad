"""``GET /v2/images/{id}/direct-link``: a read-only link to the image data in its backend."""

from glance.api import resource
from glance.image import direct_link


class Controller:

    def show(self, req, image_id):
        return direct_link.issue(req.context, image_id, req.remote_addr)


def create_resource():
    return resource.Resource(Controller())
