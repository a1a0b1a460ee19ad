"""``PUT /v2/images/{id}/stage``, ``POST /v2/images/{id}/import``, ``GET /v2/info/import``
and ``GET /v2/info/usage``.

Staging streams the body into the staging area (glance.image.staging); an import is started
as a task (glance.image.imports) and answered 202 at once: its progress is on the task
(``GET /v2/images/{id}/tasks``) and on the image's ``os_glance_*`` properties.
"""

from glance.api import resource
from glance.common import exception
from glance.image import imports
from glance.image import quota
from glance.image import staging


class Controller:

    def stage(self, req, image_id):
        if 'glance-direct' not in imports.enabled_methods():
            raise exception.NotFound('Staging is not available: the glance-direct import '
                                     'method is not enabled.')
        staging.stage(req.context, image_id, req.environ['wsgi.input'], req.content_length)

    def import_image(self, req, image_id, body):
        imports.import_image(req.context, image_id, body,
                             stores_header=req.headers.get('X-Image-Meta-Store'))

    def info(self, req):
        return imports.import_info()

    def usage(self, req):
        return quota.usage(req.context)


class RequestDeserializer:

    def stage(self, req):
        media_type = req.content_type
        if media_type and media_type != 'application/octet-stream':
            raise exception.UnsupportedMediaType(
                message='Unsupported Content-Type %s for image data: use '
                        'application/octet-stream.' % media_type[:100])
        return {}

    def import_image(self, req):
        return {'body': resource.json_body(req)}


class ResponseSerializer:

    def stage(self, resp, result):
        resp.status_int = 204

    def import_image(self, resp, result):
        resp.status_int = 202


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
