"""The Images API v2 routes: each path, its methods, and the controller action they reach."""

from glance.api import resource
from glance.api.v2 import schemas


class API:
    """The /v2 application (paste app factory ``glance.api.v2.router:API.factory``)."""

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls.build()

    @staticmethod
    def build():
        router = resource.Router()
        schemas_resource = schemas.create_resource()
        for name in ('image', 'images', 'member', 'members'):
            router.connect('/v2/schemas/%s' % name, schemas_resource, name, 'GET')
        return router.finish()
