"""glance-stream's WSGI application: ``GET``/``HEAD /v2/images/{id}/file``.

It looks the image up read-only in the database, refuses what glance-api would refuse (an
image the caller may not see is 404, a deactivated one 403 to non-admins, one without data
204), and streams the bytes through ``glance.stream.reader`` (and the cache, when one is
configured), with Range support. Response headers are the image's checksums, never where or
how the bytes are stored.
"""

import re

from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from glance.api import fault
from glance.common import exception
from glance.db import api as db_api
from glance.image import policy as image_policy
from glance.image import visibility
from glance.store import backend
from glance.stream import cache as image_cache
from glance.stream import cache_api
from glance.stream import prefetcher
from glance.stream import ranges
from glance.stream import reader

LOG = logging.getLogger(__name__)

_IMAGE_FILE = re.compile(r'^/v2/images/([^/]+)/file/?$')


def load_downloadable(context, image_id, ticket_claims=None):
    """The image if the caller may download it now; the domain error otherwise.

    With a ticket, glance-api already applied the download policy: only visibility and
    status are checked again (they may have changed since the ticket was signed).
    """
    image = db_api.image_get(image_id)
    if ticket_claims is not None:
        if not visibility.is_visible(context, image):
            # The ticket names a project that may not see this image (membership revoked
            # since, or a ticket minted for another project): the ticket is refused.
            raise exception.Forbidden('The ticket does not allow access to this image.')
    else:
        image_policy.ImagePolicy(context, image).download()
    if image['status'] == 'deactivated' and not context.is_admin:
        raise exception.Forbidden('The requested image has been deactivated. Image data '
                                  'download is forbidden.')
    return image


def data_response(req, image, open_whole=None, cache=None):
    """The response for an image's data: 204, 200 or 206 (or the 416 error)."""
    resp = webob.Response(request=req)
    if image['status'] not in ('active', 'deactivated') or not image['locations']:
        resp.status_int = 204
        return resp
    size = image['size']
    byte_range = ranges.parse(req.headers.get('Range'), size)
    resp.content_type = 'application/octet-stream'
    resp.headers['Accept-Ranges'] = 'bytes'
    if image['checksum']:
        resp.headers['Content-MD5'] = image['checksum']
    if image['os_hash_value']:
        resp.etag = image['os_hash_value']
    start, end = byte_range if byte_range is not None else (0, size - 1)
    if byte_range is not None:
        resp.status_int = 206
        resp.headers['Content-Range'] = ranges.content_range(start, end, size)
    body = None
    if req.method != 'HEAD' and size:
        if cache is not None:
            source, body = cache.read(image, reader.open_raw, start, end)
            resp.headers['X-Image-Cache'] = source
        if body is None:
            kwargs = {'open_whole': open_whole} if open_whole is not None else {}
            body = reader.read(image, start, end, context=req.context, **kwargs)
        resp.app_iter = body
    # After app_iter, which resets it: clients need the length to detect a cut transfer.
    # A cache hit's body is a FileRange, which the eventlet server sends with sendfile.
    resp.content_length = end - start + 1 if size else 0
    return resp


class StreamApp:

    def __init__(self):
        backend.configure()
        self.cache = image_cache.ImageCache.from_conf()
        if self.cache is not None:
            self.cache.cleanup_at_start()
            prefetcher.start(self.cache)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    @webob.dec.wsgify
    def __call__(self, req):
        admin = cache_api.handle(req, self.cache)
        if admin is not None:
            return admin
        match = _IMAGE_FILE.match(req.path_info)
        if not match:
            return webob.exc.HTTPNotFound()
        if req.method not in ('GET', 'HEAD'):
            return webob.exc.HTTPMethodNotAllowed(headers=[('Allow', 'GET, HEAD')])
        try:
            image = load_downloadable(req.context, match.group(1),
                                      req.environ.get('glance.ticket'))
            return data_response(req, image, cache=self.cache)
        except exception.GlanceException as e:
            return fault.to_http(e)
