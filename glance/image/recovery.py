"""Housekeeping in glance-api: recover dead uploads, finish deferred data deletes.

``run_once`` runs at start and then every ``housekeeping_interval`` seconds, in one worker
per host (glance.common.background):

* an image in ``saving`` whose uploading process is gone (same host: its pid is dead or the
  host rebooted; any host: no progress for ``upload_stale_after`` seconds) has the partial
  data deleted from the store the upload recorded (``upload_store``: file, Swift segments,
  an S3 multipart upload; glance.store.inventory) and goes back to ``queued``;
* locations left ``pending_delete`` (by ``delayed_delete`` after ``scrub_time``, or by a
  delete whose backend call failed) have their data deleted and are marked ``deleted``;
* cache evictions a glance-stream node missed are delivered again.

Every step is a compare-and-set on the database, so several workers sweeping at once do no
harm, and a failure is logged and retried on the next sweep.
"""

import datetime
import os
import random
import socket

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import api as db_api
from glance.db import models
from glance.image import cache_coherence
from glance.image import data
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

recovery_opts = [
    cfg.IntOpt('housekeeping_interval', default=60, min=1,
               help='Seconds between two sweeps for dead uploads and pending deletes.'),
    cfg.IntOpt('upload_stale_after', default=600, min=10,
               help='Seconds without progress after which an upload counts as dead, '
                    'whichever host runs it. Must exceed upload_heartbeat_interval.'),
    cfg.IntOpt('scrub_time', default=0, min=0,
               help='With delayed_delete, seconds a deleted image\'s data is kept before '
                    'the sweep deletes it.'),
]
CONF.register_opts(recovery_opts)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_gone(image, now=None):
    now = now or models.now()
    beat = image.get('upload_heartbeat_at')
    if beat is None or now - beat > datetime.timedelta(seconds=CONF.upload_stale_after):
        return True
    try:
        host, pid, boot = (image.get('upload_holder') or '').split(':', 2)
        pid = int(pid)
    except ValueError:
        return True
    if host != socket.gethostname():
        return False  # another host's upload: only its silence tells
    return boot != data.boot_id() or not _pid_alive(pid)


def recover_uploads():
    """Put uploads whose writer died back to queued; delete their partial data.

    The partial data is looked for in the store the upload recorded when it started
    (``upload_store``), whatever its kind; images from before that column existed fall
    back to the default store.
    """
    recovered = 0
    for image in db_api.images_in_status('saving'):
        if not holder_gone(image):
            continue
        store = image.get('upload_store') or backend.default_backend()
        # Clean while the image is still saving: once queued, a new upload may start
        # writing the same object. A store that fails keeps the image saving; the next
        # sweep tries again.
        try:
            data.clean_partial(image['id'], store)
        except Exception as e:
            LOG.error('Could not delete partial data of image %s in store %s (%s); it '
                      'stays saving and the next sweep tries again', image['id'], store,
                      type(e).__name__)
            continue
        try:
            db_api.image_update(image['id'], {'status': 'queued', 'upload_holder': None,
                                              'upload_heartbeat_at': None,
                                              'upload_store': None, 'size': None},
                                from_state='saving')
        except (exception.Conflict, exception.ImageNotFound):
            continue  # finished, or recovered by another worker
        LOG.warning('Recovered image %s: its upload to store %s by %s died; it is queued '
                    'again', image['id'], store, image.get('upload_holder'))
        recovered += 1
    return recovered


def scrub():
    cutoff = models.now() - datetime.timedelta(seconds=CONF.scrub_time)
    scrubbed = 0
    for location in db_api.image_locations_by_status('pending_delete', deleted_before=cutoff):
        try:
            backend.delete(location)
        except Exception as e:
            LOG.error('Could not delete the data of deleted image %s: %s',
                      location['image_id'], type(e).__name__)
            continue
        db_api.image_location_set_status(location['id'], 'deleted')
        scrubbed += 1
    return scrubbed


def run_once():
    try:
        return recover_uploads(), scrub(), cache_coherence.retry_pending()
    except Exception:
        LOG.exception('Housekeeping sweep failed; it runs again in %ss',
                      CONF.housekeeping_interval)
        return 0, 0, 0


def _loop():
    while True:
        # Jitter keeps several workers from sweeping in lockstep.
        eventlet.sleep(CONF.housekeeping_interval * random.uniform(0.8, 1.2))
        run_once()


def start():
    """Sweep now, then periodically in this process (one green thread)."""
    run_once()
    return [eventlet.spawn(_loop)]


def list_opts():
    return [(None, recovery_opts)]
