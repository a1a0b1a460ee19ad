"""glance-stream's cache management API, for glance-api (and glance-manage) only.

``GET /cache`` (list), ``GET /cache/metrics``, ``GET /cache/{id}`` (one image's state and,
when cached, its file), ``PUT /cache/{id}`` (queue a prefetch),
``DELETE /cache/{id}`` (evict), ``DELETE /cache`` (clear; ``x-image-cache-clear-target``:
cache, queue or both), ``POST /cache/prune``. Every call must carry a valid
``X-Glance-Cache-Auth`` (glance.stream.client signs it); users never reach these directly.
"""

import re

from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob
import webob.exc

from glance.common import exception
from glance.common import ticket
from glance.stream import client

LOG = logging.getLogger(__name__)

_ITEM = re.compile(r'^/cache/([0-9a-fA-F-]{36})$')


def _json(value, status=200):
    resp = webob.Response(status=status, content_type='application/json', charset='UTF-8')
    resp.body = jsonutils.dump_as_bytes(value)
    return resp


def handle(req, cache):
    """The response for a /cache request, or None if the path is not the cache API's."""
    path = req.path_info.rstrip('/')
    if path != '/cache' and not path.startswith('/cache/'):
        return None
    try:
        ticket.verify_request(req.method, req.path_info,
                              req.headers.get(client.AUTH_HEADER, ''))
    except exception.GlanceException:
        return webob.exc.HTTPUnauthorized(explanation='The cache API needs a signed call.')
    if cache is None:
        return webob.exc.HTTPNotFound(explanation='This node has no cache configured.')
    match = _ITEM.match(path)
    if path == '/cache' and req.method == 'GET':
        return _json(cache.list())
    if path == '/cache/metrics' and req.method == 'GET':
        return _json(cache.metrics())
    if path == '/cache/prune' and req.method == 'POST':
        return _json(cache.prune())
    if path == '/cache' and req.method == 'DELETE':
        target = req.headers.get('x-image-cache-clear-target', 'both').lower() or 'both'
        if target not in ('cache', 'queue', 'both'):
            return webob.exc.HTTPBadRequest(explanation='x-image-cache-clear-target must be '
                                                        'cache, queue or both.')
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
