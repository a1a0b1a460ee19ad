"""``POST`` and ``GET /v2/images/{id}/locations`` (API 2.17): data registered by location.

Nova (direct RBD snapshots) and Cinder (a volume uploaded as an image) register the data
they already wrote to a store instead of uploading it. The service
(glance.image.location_changes) checks the URL and the caller's validation data, and starts
the task that verifies the data; the answer is 202 as soon as the location is recorded.
"""

from glance.api import resource
from glance.common import exception
from glance.image import location_changes


class Controller:

    def create(self, req, image_id, url, validation_data):
        location_changes.add_location(req.context, image_id, url, validation_data)

    def index(self, req, image_id):
        return location_changes.list_locations(req.context, image_id)


class RequestDeserializer:

    def create(self, req):
        body = resource.json_body(req)
        if not isinstance(body, dict):
            raise exception.BadRequest('The request body must be a JSON object.')
        extra = sorted(set(body) - {'url', 'validation_data'})
        if extra:
            raise exception.BadRequest('A location has only "url" and "validation_data", '
                                       'not %s.' % ', '.join(e[:64] for e in extra))
        if not isinstance(body.get('url'), str) or not body['url']:
            raise exception.BadRequest('The request body needs "url", a string.')
        return {'url': body['url'], 'validation_data': body.get('validation_data')}


class ResponseSerializer:

    def create(self, resp, result):
        resp.status_int = 202

    def index(self, resp, locations):
        resource.json_response(resp, locations)


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
