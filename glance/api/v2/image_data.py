"""``PUT`` and ``GET /v2/images/{id}/file``, ``/v2/info/stores[/detail]`` and
``DELETE /v2/stores/{store_id}/{image_id}``.

Uploads stream through glance-api into the store (glance.image.data). Downloads are checked
here (policy, visibility, status) and then, with ``download_mode = redirect``, answered with
a redirect to the glance-stream node that owns the image, carrying a short-lived ticket; with
``download_mode = proxy`` glance-api streams the bytes itself with the same reader code.
"""

import urllib.parse

from oslo_config import cfg
import webob
import webob.exc

from glance.api import resource
from glance.common import exception
from glance.common import stream_nodes as nodes
from glance.common import ticket
from glance.image import data
from glance.image import download
from glance.image import service
from glance.store import backend
from glance.store import reader
from glance.store import response

CONF = cfg.CONF

download_opts = [
    cfg.StrOpt('download_mode', default='redirect', choices=[
        ('redirect', 'answer downloads with a redirect to a glance-stream node'),
        ('proxy', 'glance-api streams image data itself (no glance-stream needed)')],
        help='How glance-api answers GET /v2/images/{id}/file.'),
]
CONF.register_opts(download_opts, group='stream')


class Controller:

    def upload(self, req, image_id):
        # The server's input stream ends at Content-Length or at the last chunk of a
        # chunked body; size is None for the latter.
        data.upload(req.context, image_id, req.environ['wsgi.input'], req.content_length,
                    req.headers.get('X-Image-Meta-Store'))

    def download(self, req, image_id):
        image = download.check_downloadable(req.context, image_id)
        if not download.has_data(image):
            return response.no_data_response(req)
        if CONF.stream.download_mode == 'proxy':
            return response.data_response(req, image, lambda start, end: (
                None, reader.read(image, start, end, context=req.context)))
        endpoint = nodes.pick(image_id)
        token = ticket.sign(image_id, req.context.project_id, req.context.is_admin,
                            user_id=req.context.user_id)
        location = '%s/v2/images/%s/file?%s' % (endpoint.rstrip('/'), image_id,
                                                urllib.parse.urlencode({'ticket': token}))
        return webob.exc.HTTPFound(location=location)

    def stores(self, req):
        return backend.stores_info()

    def stores_detail(self, req):
        from glance import policy
        policy.enforce(req.context, 'stores_info_detail',
                       {'project_id': req.context.project_id})
        return backend.stores_detail()

    def delete_from_store(self, req, store_id, image_id):
        service.delete_from_store(req.context, image_id, store_id)


class RequestDeserializer:

    def upload(self, req):
        """Image data is ``application/octet-stream``; any other declared type is 415.

        As upstream; a request that declares no Content-Type at all (``curl -T``) is taken
        as octet-stream.
        """
        media_type = req.content_type
        if media_type and media_type != 'application/octet-stream':
            raise exception.UnsupportedMediaType(
                message='Unsupported Content-Type %s for image data: use '
                        'application/octet-stream.' % media_type[:100])
        return {}


class ResponseSerializer:

    def upload(self, resp, result):
        resp.status_int = 204

    def delete_from_store(self, resp, result):
        resp.status_int = 204


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())


def list_opts():
    return [('stream', download_opts)]
