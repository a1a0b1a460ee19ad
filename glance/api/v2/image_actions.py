"""``POST /v2/images/{id}/actions/deactivate`` and ``.../reactivate``."""

from glance.api import resource
from glance.image import service


class Controller:

    def deactivate(self, req, image_id):
        service.deactivate(req.context, image_id)

    def reactivate(self, req, image_id):
        service.reactivate(req.context, image_id)


def create_resource():
    return resource.Resource(Controller())
