"""``/v2/images`` and ``/v2/images/{id}``: create, list, show, update (JSON patch), delete.

Each action: parse (deserializer), call the one service function, write the response
(serializer). Errors are domain exceptions, mapped to HTTP by glance.api.resource.
"""

import urllib.parse

from eventlet import semaphore
from oslo_config import cfg

from glance.api import resource
from glance.api.v2 import image_patch
from glance.api.v2 import image_schema
from glance.api.v2 import image_view
from glance.api.v2 import list_params
from glance.common import exception
from glance.image import imports
from glance.image import location_changes as location_changes_service
from glance.image import property_protections
from glance.image import service

CONF = cfg.CONF


class ImagesController:

    def create(self, req, body):
        return service.create(req.context, body)

    def index(self, req, **params):
        images = service.list_images(req.context, **params)
        return {'images': images, 'params': params}

    def show(self, req, image_id):
        return service.get(req.context, image_id)

    def update(self, req, image_id, changes):
        location_changes, changes = image_patch.split(changes)
        if location_changes and not changes:
            changed = location_changes_service.patch(req.context, image_id,
                                                     location_changes)
            return service.get(req.context, image_id) if changed is None else \
                property_protections.shown(req.context, changed)
        if location_changes:
            # every location change is checked before the other changes are saved (as a
            # whole), and done after them
            planned = location_changes_service.plan(req.context, image_id, location_changes)
            service.update(req.context, image_id, self._applier(changes))
            location_changes_service.apply(planned)
            return service.get(req.context, image_id)
        return service.update(req.context, image_id, self._applier(changes))

    @staticmethod
    def _applier(changes):
        def apply_changes(image):
            new = image_patch.apply(image_view.flat(image), changes)
            candidate = dict(image_view.show(image))
            for name in image_view.flat(image):
                candidate.pop(name, None)
            candidate.update(new)
            image_schema.validate(candidate)
            return new
        return apply_changes

    def delete(self, req, image_id):
        service.delete(req.context, image_id)


class RequestDeserializer:

    def create(self, req):
        body = resource.json_body(req)
        if not isinstance(body, dict):
            raise exception.BadRequest('The request body must be a JSON object.')
        for name in body:
            if name != 'id':
                image_schema.check_property_name(name)
        image_schema.validate(body)
        return {'body': body}

    def update(self, req):
        media_type = req.content_type
        if media_type not in image_patch.MEDIA_TYPES:
            raise exception.UnsupportedMediaType(
                message='Unsupported Content-Type %s: use %s.'
                % (media_type or '(none)', ' or '.join(image_patch.MEDIA_TYPES)))
        return {'changes': image_patch.parse(resource.json_body(req), media_type)}

    def index(self, req):
        return list_params.parse(req.params)


def _context(resp):
    return resp.request.environ.get('glance.context')


class ResponseSerializer:

    def create(self, resp, image):
        resource.json_response(resp, image_view.show(image, _context(resp)), status=201)
        resp.location = '/v2/images/%s' % image['id']
        # As upstream: how data may be imported into the new image, and into which stores.
        resp.headers['OpenStack-image-import-methods'] = ','.join(imports.enabled_methods())
        resp.headers['OpenStack-image-store-ids'] = ','.join(CONF.enabled_backends)

    def show(self, resp, image):
        resource.json_response(resp, image_view.show(image, _context(resp)))

    update = show

    def index(self, resp, result):
        params = dict(resp.request.params)
        params.pop('marker', None)
        query = urllib.parse.urlencode(
            [(k, v) for k, v in resp.request.params.items() if k != 'marker'])
        images = result['images']
        body = {
            'images': [image_view.show(i, _context(resp)) for i in images],
            'first': '/v2/images' + ('?' + query if query else ''),
            'schema': '/v2/schemas/images',
        }
        if images and len(images) == result['params'].get('limit'):
            next_query = [(k, v) for k, v in resp.request.params.items() if k != 'marker']
            next_query.append(('marker', images[-1]['id']))
            body['next'] = '/v2/images?' + urllib.parse.urlencode(next_query)
        resource.json_response(resp, body)

    def delete(self, resp, result):
        resp.status_int = 204


def create_resource():
    queues = {}
    if CONF.api.image_list_concurrency:
        # Per worker process: a worker forks with its own copy, unheld.
        queues['index'] = semaphore.Semaphore(CONF.api.image_list_concurrency)
    return resource.Resource(ImagesController(), RequestDeserializer(), ResponseSerializer(),
                             queues=queues)
