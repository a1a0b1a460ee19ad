"""``GET /v2/info/usage``: the caller's project's image limits and what it uses of them."""

from glance.api import resource
from glance.image import keystone_limits


class Controller:

    def usage(self, req):
        """Empty unless use_keystone_limits is True, as upstream."""
        return {'usage': keystone_limits.usage(req.context)}


def create_resource():
    return resource.Resource(Controller())
