"""The cache filter: serve image data from the node's local cache, filling it on a miss.

It sits between the image lookup filter (which put the authorised image in
``glance.image``) and the reader app. A hit is served from the cached file (zero-copy); a
miss starts or follows the one fill of the image (glance.stream.cache); an image the cache
will not hold (too big, no hash) and any request while the cache is degraded go down to the
reader app, which reads the store. Removing this filter from the pipeline gives a node
without a cache; nothing else changes.

Configuration: ``[cache]`` in glance-stream.conf (directory, max_size, eviction_policy...).
"""

import webob.dec

from glance.api import fault
from glance.common import exception
from glance.common import wsgi
from glance.store import reader
from glance.store import response
from glance.stream import app as reader_app
from glance.stream import cache as image_cache
from glance.stream import lookup


class CacheFilter:
    def __init__(self, app):
        self.app = app

    @property
    def cache(self):
        return image_cache.ImageCache.shared()

    @webob.dec.wsgify
    def __call__(self, req):
        image = req.environ.get(lookup.IMAGE_KEY)
        cache = self.cache
        if image is None or cache is None or req.method != 'GET' or not image['size']:
            return req.get_response(self.app)
        served = []

        def open_verified(img):
            return reader.open_verified(img, context=req.context, reuse_buffers=True)

        def read_range(start, end):
            source, body = cache.read(
                image, open_verified, start, end,
                fallback=lambda s, e: reader.read(image, s, e, context=req.context),
                verified_as_written=reader.piece_map(image) is not None,
                zero_copy=wsgi.SENDFILE_KEY in req.environ)
            if body is None:
                raise _Bypass(source)
            served.append(source)
            return source, body

        try:
            return response.data_response(req, image, read_range)
        except _Bypass as bypass:
            req.environ[reader_app.CACHE_SOURCE_KEY] = bypass.source
        except image_cache.CacheUnavailable:
            req.environ[reader_app.CACHE_SOURCE_KEY] = 'degraded'
        except exception.GlanceException as e:
            return fault.to_http(e)
        return req.get_response(self.app)


class _Bypass(Exception):
    def __init__(self, source):
        super().__init__(source)
        self.source = source


def filter_factory(global_conf, **local_conf):
    return CacheFilter
