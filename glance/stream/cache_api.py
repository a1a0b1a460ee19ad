"""glance-stream's cache management app, for glance-api (and glance-manage) only.

Mounted at ``/cache`` in glance-stream's URL map, behind the signature filter
(glance.stream.signature). ``GET /cache`` (list), ``GET /cache/metrics``,
``GET /cache/{id}`` (one image's state and, when cached, its file), ``PUT /cache/{id}``
(queue a prefetch), ``DELETE /cache/{id}`` (evict), ``DELETE /cache`` (clear;
``x-image-cache-clear-target``: cache, queue or both), ``POST /cache/prune``,
``POST /cache/verify`` (scrub now). A cache that is degraded answers 503 with the reason,
so glance-api reports the node as failing, never as empty.
"""

import re

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob
import webob.dec
import webob.exc

from glance.api import fault
from glance.common import exception
from glance.db import api as db_api
from glance.store import reader
from glance.stream import cache as image_cache

LOG = logging.getLogger(__name__)

_ITEM = re.compile(r'^/([0-9a-fA-F-]{36})$')


def _json(value, status=200):
    resp = webob.Response(status=status, content_type='application/json', charset='UTF-8')
    resp.body = jsonutils.dump_as_bytes(value)
    return resp


def load_image(image_id):
    """The image with its piece map, for the scrub."""
    image = db_api.image_get(image_id)
    reader.piece_map(image)
    return image


class CacheAPI:

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    @webob.dec.wsgify
    def __call__(self, req):
        cache = image_cache.ImageCache.shared()
        if cache is None:
            return webob.exc.HTTPNotFound(explanation='This node has no cache configured.')
        try:
            return self._dispatch(req, cache)
        except image_cache.CacheUnavailable as e:
            return _json({'error': str(e), 'degraded': cache.degraded}, status=503)
        except exception.GlanceException as e:
            return fault.to_http(e)

    def _dispatch(self, req, cache):
        path = req.path_info.rstrip('/')
        match = _ITEM.match(path)
        if path == '' and req.method == 'GET':
            return _json(cache.list())
        if path == '/metrics' and req.method == 'GET':
            values = cache.metrics()
            # mismatches the reader found in the stores, in this worker process
            values['store_verification_failures'] = sum(reader.corruptions.values())
            return _json(values)
        if path == '/prune' and req.method == 'POST':
            return _json(cache.prune())
        if path == '/verify' and req.method == 'POST':
            return _json(cache.scrub(load_image))
        if path == '' and req.method == 'DELETE':
            target = req.headers.get('x-image-cache-clear-target', 'both').lower() or 'both'
            if target not in ('cache', 'queue', 'both'):
                return webob.exc.HTTPBadRequest(explanation='x-image-cache-clear-target must '
                                                            'be cache, queue or both.')
            return _json(cache.clear(target))
        if match and req.method == 'GET':
            return _json(cache.status(match.group(1)))
        if match and req.method == 'PUT':
            cache.queue(match.group(1))
            return _json({'queued': match.group(1)}, status=202)
        if match and req.method == 'DELETE':
            cache.evict(match.group(1))
            LOG.info('Evicted image %s from the cache on request', match.group(1))
            return webob.Response(status=204)
        return webob.exc.HTTPNotFound()
