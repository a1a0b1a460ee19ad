"""Keep the stream nodes' caches coherent with the catalogue.

Deleting or deactivating an image evicts it from every glance-stream node. A node that does
not answer gets the eviction later: it is recorded in the database and retried by the
housekeeping sweep until the node acknowledges it. (Meanwhile the node already refuses to
serve the image, since it checks the image's status in the database on every request.)
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import stream_client as client
from glance.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _deliver(image_id, endpoint):
    try:
        status, _ = client.call(endpoint, 'DELETE', '/cache/%s' % image_id)
    except exception.ServiceUnavailable:
        return False
    # 404: the node has no cache at all, so nothing to evict.
    return status in (204, 404)


def invalidate(image_id):
    """Evict the image from every node now, or record the evictions still owed."""
    for endpoint in CONF.stream.endpoints:
        if not _deliver(image_id, endpoint):
            LOG.warning('glance-stream node %s did not evict image %s; will retry',
                        endpoint, image_id)
            db_api.cache_invalidation_add(image_id, endpoint)


def retry_pending():
    """Deliver recorded evictions; returns how many were delivered."""
    delivered = 0
    for pending in db_api.cache_invalidations():
        ok = (pending['endpoint'] not in CONF.stream.endpoints
              or _deliver(pending['image_id'], pending['endpoint']))
        db_api.cache_invalidation_done(pending['id'], delivered=ok)
        delivered += int(ok)
    return delivered
