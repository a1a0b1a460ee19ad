"""Housekeeping in glance-api: recover dead uploads and imports, finish deferred data deletes.

``run_once`` runs at start and then every ``housekeeping_interval`` seconds, in one worker
per host (glance.common.background):

* an image in ``saving`` whose uploading process is gone (same host: its pid is dead or the
  host rebooted; any host: no progress for ``upload_stale_after`` seconds) goes back to
  ``queued`` and the partial data is deleted;
* an image in ``uploading`` whose staging process is gone goes back to ``queued`` and the
  partial staged data is removed;
* a task whose worker is gone fails, and its import is undone (glance.image.task_runner);
  tasks past their ``expires_at`` are deleted;
* staged data no import will use (its image was deleted, or is neither staging nor
  importing) is removed;
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
from glance.image import imports
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
    return boot != data.boot_id() or not _pid_alive(pid)


def holder_gone(image, now=None):
    return process_gone(image.get('upload_holder'), image.get('upload_heartbeat_at'),
                        CONF.upload_stale_after, now)


def recover_uploads():
    recovered = 0
    for image in db_api.images_in_status('saving'):
        if not holder_gone(image):
            continue
        store = backend.default_backend()
        location = backend.expected_location(store, image['id'])
        try:
            db_api.image_update(image['id'], {'status': 'queued', 'upload_holder': None,
                                              'upload_heartbeat_at': None, 'size': None},
                                from_state='saving')
        except (exception.Conflict, exception.ImageNotFound):
            continue  # finished, or recovered by another worker
        if location is not None:
            try:
                backend.delete(location)
            except Exception as e:
                LOG.error('Could not delete partial data of image %s: %s', image['id'], e)
        LOG.warning('Recovered image %s: its upload by %s died; it is queued again',
                    image['id'], image.get('upload_holder'))
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
    return removed


def recover_tasks():
    """Fail the tasks whose worker died (undoing their imports), delete expired tasks."""
    def gone(holder, beat):
        return process_gone(holder, beat, CONF.task.stale_after)
    return task_runner.recover(imports.cleanups(), gone) + task_runner.expire()


def run_once():
    try:
        return (recover_uploads() + recover_stages() + recover_tasks() + clean_staging(),
                scrub(),
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
