"""Housekeeping in glance-api: recover dead uploads and imports, finish deferred data deletes.

``run_once`` runs at start and then every ``housekeeping_interval`` seconds, in one worker
per host (glance.common.background):

* an image in ``saving`` whose uploading process is gone (same host: its pid is dead or the
  host rebooted; any host: no progress for ``upload_stale_after`` seconds) has the partial
  data deleted from the store the upload recorded (``upload_store``: file, Swift segments,
  an S3 multipart upload; glance.store.inventory) and goes back to ``queued``;
* the scrubber (``scrub``, one per deployment through a lease in the database): locations
  left ``pending_delete`` (by ``delayed_delete``, after ``scrub_time``; or by a delete
  whose backend call failed) have their data deleted and are marked ``deleted``, and their
  images go from ``pending_delete`` to ``deleted``;
* an image in ``uploading`` whose staging process is gone goes back to ``queued`` and the
  partial staged data is removed;
* a task whose worker is gone fails, and its import is undone (glance.image.task_runner);
  a location_import task (glance.image.location_hash) is resumed here instead; tasks past
  their ``expires_at`` are deleted;
* staged data no import will use (its image was deleted, or is neither staging nor
  importing) is removed;
* cache evictions a glance-stream node missed are delivered again.

Every step is a compare-and-set on the database, so several workers sweeping at once do no
harm, and a failure is logged and retried on the next sweep.
"""

import collections
import datetime
import os
import random
import socket

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import processes
from glance.db import api as db_api
from glance.db import housekeeping as housekeeping_db
from glance.db import models
from glance.image import cache_coherence
from glance.image import data
from glance.image import housekeeping_metrics
from glance.image import imports
from glance.image import location_hash
from glance.image import staging
from glance.image import task_runner
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
                    'the scrubber deletes it; until then "glance-manage image restore" '
                    'brings the image back.'),
    cfg.IntOpt('scrub_batch_size', default=1000, min=1,
               help='Most image locations one scrubber sweep deletes; the rest wait for '
                    'the next sweep.'),
]
CONF.register_opts(recovery_opts)


def process_gone(holder, beat, stale_after, now=None):
    """True if the process ``holder`` ("host:pid:boot"), last heard of at ``beat``, is gone.

    Silence for ``stale_after`` seconds says so on any host; on this host a dead pid or a
    reboot says so at once.
    """
    now = now or models.now()
    if beat is None or now - beat > datetime.timedelta(seconds=stale_after):
        return True
    try:
        host, pid, boot = (holder or '').split(':', 2)
        pid = int(pid)
    except ValueError:
        return True
    if host != socket.gethostname():
        return False  # another host's process: only its silence tells
    return boot != data.boot_id() or not processes.pid_alive(pid)


def holder_gone(image, now=None):
    return process_gone(image.get('upload_holder'), image.get('upload_heartbeat_at'),
                        CONF.upload_stale_after, now)


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
    housekeeping_metrics.add(recovered_uploads=recovered)
    return recovered


SCRUB_LEASE = 'scrubber'
ScrubResult = collections.namedtuple('ScrubResult', 'scrubbed failed deleted_images')


def scrub(holder=None):
    """Delete the data of locations pending_delete for ``scrub_time`` seconds or more.

    One scrubber per deployment at a time: it holds the ``scrubber`` lease in the database
    (renewed as it goes, released at the end), whichever host or glance-manage runs it.
    Each location is claimed (pending_delete -> deleting) before its data goes, so a
    restore at the same moment either keeps it or loses it, never half. A store that fails
    leaves the location pending_delete for the next sweep, and is reported. Images with
    nothing left to delete move from pending_delete to deleted.

    Returns a ScrubResult (lists of image ids; ``failed`` of (image id, reason)), or None
    when another scrubber holds the lease.
    """
    holder = holder or data.holder_id()
    ttl = max(3 * CONF.housekeeping_interval, 300)
    if not housekeeping_db.lease_acquire(SCRUB_LEASE, holder, ttl):
        LOG.debug('The scrubber runs elsewhere now (%s)',
                  housekeeping_db.lease_holder(SCRUB_LEASE))
        return None
    scrubbed, failed, deleted = [], [], []
    try:
        cutoff = models.now() - datetime.timedelta(seconds=CONF.scrub_time)
        # "deleting": claimed by a scrubber that died before it finished
        todo = (db_api.image_locations_by_status('deleting') +
                [dict(loc, claim=True) for loc in db_api.image_locations_by_status(
                    'pending_delete', deleted_before=cutoff)])
        for location in todo[:CONF.scrub_batch_size]:
            if location.get('claim') and not housekeeping_db.location_claim(location['id']):
                continue  # restored, or claimed by another scrubber
            housekeeping_db.lease_acquire(SCRUB_LEASE, holder, ttl)
            try:
                backend.delete(location)
            except Exception as e:
                reason = '%s in store %s' % (type(e).__name__,
                                             location['metadata'].get('store'))
                LOG.error('Scrubber could not delete the data of image %s (%s); it is '
                          'retried at the next sweep', location['image_id'], reason)
                housekeeping_db.location_unclaim(location['id'])
                failed.append((location['image_id'], reason))
                continue
            db_api.image_location_set_status(location['id'], 'deleted')
            LOG.info('Scrubbed the data of image %s from store %s', location['image_id'],
                     location['metadata'].get('store'))
            scrubbed.append(location['image_id'])
        deleted = housekeeping_db.images_finish_delete()
        for image_id in deleted:
            LOG.info('Image %s is deleted: the scrubber removed all its data', image_id)
    finally:
        housekeeping_db.lease_release(SCRUB_LEASE, holder)
        housekeeping_metrics.add(scrubber_runs=1, scrubber_locations_deleted=len(scrubbed),
                                 scrubber_failures=len(failed),
                                 scrubber_images_deleted=len(deleted))
    return ScrubResult(scrubbed, failed, deleted)


def recover_stages():
    """Stages whose writer died: the image back to queued, the partial staged data removed."""
    recovered = 0
    for image in db_api.images_in_status('uploading'):
        if not image.get('upload_holder') or not holder_gone(image):
            continue  # staged completely (waiting for its import), or still being written
        try:
            db_api.image_update(image['id'], {'status': 'queued', 'upload_holder': None,
                                              'upload_heartbeat_at': None, 'size': None},
                                from_state='uploading')
        except (exception.Conflict, exception.ImageNotFound):
            continue
        staging.remove(image['id'])
        LOG.warning('Recovered image %s: its staging by %s died; it is queued again',
                    image['id'], image.get('upload_holder'))
        recovered += 1
    housekeeping_metrics.add(recovered_stages=recovered)
    return recovered


def clean_staging(grace=600):
    """Remove staged data no stage or import will use.

    That is: its image is gone, or neither staging nor importing any more (deleted while
    staged, say). Files younger than ``grace`` seconds are left alone, whatever they are.
    """
    removed = 0
    for image_id, path, age in staging.staged_images():
        if age < grace:
            continue
        try:
            image = db_api.image_get(image_id)
        except exception.ImageNotFound:
            image = None
        if image is not None and image['status'] in ('uploading', 'importing'):
            continue
        try:
            os.unlink(path)
        except OSError as e:
            LOG.error('Could not remove stale staged data %s: %s', path, e)
            continue
        LOG.warning('Removed staged data of image %s, which no import will use', image_id)
        removed += 1
    housekeeping_metrics.add(staged_files_removed=removed)
    return removed


def recover_tasks():
    """Fail (undoing their imports) or resume the tasks whose worker died; expire old ones."""
    def gone(holder, beat):
        return process_gone(holder, beat, CONF.task.stale_after)
    recovered = task_runner.recover(imports.cleanups(), gone, location_hash.resumers())
    expired = task_runner.expire()
    housekeeping_metrics.add(recovered_tasks=recovered, expired_tasks=expired)
    return recovered + expired


def run_once():
    try:
        scrubbed = scrub()
        return (recover_uploads() + recover_stages() + recover_tasks() + clean_staging(),
                len(scrubbed.scrubbed) if scrubbed else 0,
                cache_coherence.retry_pending())
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
