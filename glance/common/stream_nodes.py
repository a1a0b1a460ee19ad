"""Which glance-stream node serves an image: rendezvous hashing over the healthy nodes.

Each image maps to the node with the highest hash of (node, image id), so every glance-api
picks the same node and each image is cached on one node only; the fleet's cache capacity
adds up. A node whose ``/healthcheck`` fails is skipped until it answers again, and only the
images it owned move.
"""

import hashlib
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import http

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

node_opts = [
    cfg.ListOpt('endpoints', default=[],
                help='Base URLs of the glance-stream nodes, as clients reach them (e.g. '
                     'http://stream1.example.com:9293). glance-api redirects each download '
                     'to one of them, chosen by image id.'),
    cfg.IntOpt('health_check_interval', default=10, min=1,
               help='Seconds glance-api trusts the last health check of a stream node.'),
    cfg.FloatOpt('health_check_timeout', default=2.0, min=0.1,
                 help='Seconds a stream node has to answer its health check.'),
]
CONF.register_opts(node_opts, group='stream')

_health = {}  # endpoint -> (healthy, checked_at)


def rank(image_id, endpoints):
    """Endpoints in rendezvous order for this image: the owner first."""
    def weight(endpoint):
        digest = hashlib.sha256(('%s\n%s' % (endpoint, image_id)).encode()).digest()
        return int.from_bytes(digest[:8], 'big')
    return sorted(endpoints, key=weight, reverse=True)


def _healthy(endpoint, now=None):
    now = time.monotonic() if now is None else now
    cached = _health.get(endpoint)
    if cached is not None and now - cached[1] < CONF.stream.health_check_interval:
        return cached[0]
    try:
        # no retry: a node that does not answer at once is skipped, not waited for
        healthy = http.request(endpoint, 'GET', '/healthcheck', retries=0,
                               timeout=CONF.stream.health_check_timeout).status_code == 200
    except Exception as e:
        LOG.warning('glance-stream node %s failed its health check: %s', endpoint, e)
        healthy = False
    _health[endpoint] = (healthy, now)
    return healthy


def pick(image_id):
    """The healthy node that owns the image; ServiceUnavailable if there is none."""
    endpoints = CONF.stream.endpoints
    if not endpoints:
        raise exception.ServiceUnavailable(reason='no glance-stream endpoint is configured')
    ranked = rank(image_id, endpoints)
    if len(ranked) == 1:
        return ranked[0]
    for endpoint in ranked:
        if _healthy(endpoint):
            return endpoint
    raise exception.ServiceUnavailable(reason='no glance-stream node is healthy')


def list_opts():
    return [('stream', node_opts)]
