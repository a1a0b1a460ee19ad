"""The task that reads a registered location and gives its image the hashes uploads give.

``POST /v2/images/{id}/locations`` (glance.image.locations.add_location) with
``do_secure_hash`` on records the location, puts the image in ``importing`` and starts a
``location_import`` task in the worker that accepted the request. The task reads the whole
location (progress: bytes read) and computes, as an upload does, MD5 (``checksum``), the
multihash and the piece hashes (glance.common.pieces), then:

* the bytes read must be the size the store reported when the location was registered, and
  match the caller's ``validation_data`` (``os_hash_algo``/``os_hash_value``) when given;
* then the image has its hashes and piece map, and glance-stream, its cache and direct
  links treat it exactly as uploaded data;
* an image whose caller gave a multihash waits in ``importing`` for this, and becomes
  ``active``; if the data does not match, the task fails with the reason, the location is
  dropped (its data is left in the store: Glance did not write it, and ``glance-manage
  audit`` reports it) and the image goes back to ``queued`` without size or hashes, ready
  for another try;
* an image registered without one is active from the start (as upstream): the task only
  fills in its checksum, multihash and piece map. If it fails (the store cannot be read,
  the object is not the size it had) the image stays as it is, unhashed, and the task says
  why: glance-stream then serves it checked against its size only, and the cache keeps none
  of it.

An image deleted meanwhile ends the task at its next progress mark. If the worker dies,
housekeeping (glance.image.task_runner.recover) takes the task over and starts it again from
the first byte: a hash cannot be carried across processes, and reading twice is harmless.
"""

import hashlib
import time

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception
from glance.common import notifier
from glance.common import pieces
from glance.db import api as db_api
from glance.image import cache_coherence
from glance.image import data
from glance.image import task_runner
from glance.image import web_fetch
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

location_opts = [
    cfg.BoolOpt('do_secure_hash', default=True,
                help='Read a location registered with POST /v2/images/{id}/locations and '
                     'compute its checksum, multihash and piece hashes in the background. '
                     'An image whose caller gave validation_data is "importing" until they '
                     'match it; one without is active at once and gets its hashes when the '
                     'read is done. False: the image is active at once, with only the '
                     'hashes the caller gave, and glance-stream cannot verify what it serves '
                     'beyond the size unless the caller gave a multihash.'),
]
CONF.register_opts(location_opts)

TASK_TYPE = 'location_import'
_READ_CHUNK = units.Mi


class LocationMismatch(exception.BadRequest):
    message = 'The data at the location does not match: %(reason)s'


def _location_of(image, url):
    for location in image['locations']:
        if location['url'] == url:
            return location
    return None


def _chunks(location, size):
    """The location's bytes: through web_fetch for http (every redirect checked)."""
    if backend.backend_type(location['metadata'].get('store')) == 'http':
        response = web_fetch.open_url(location['url'])
        return response.chunks(size, lambda: LocationMismatch(
            reason='the location holds more than the %d bytes it had when it was '
                   'registered' % size))
    iterator, _size = backend.get(location)
    return iterator


class _StillWanted:
    """Checked every heartbeat interval: stop reading for an image deleted or reset."""

    def __init__(self, image_id, status):
        self.image_id = image_id
        self.status = status
        self.last = time.monotonic()

    def __call__(self):
        now = time.monotonic()
        if now - self.last < CONF.task.heartbeat_interval:
            return
        self.last = now
        image = db_api.image_get(self.image_id)  # ImageNotFound once deleted
        if image['status'] != self.status:
            raise exception.Conflict('Image %s is now %s: its location is no longer being '
                                     'imported.' % (self.image_id, image['status']))


def run(task, progress):
    """The task's work: read, hash, compare, then activate (or just record the hashes)."""
    wanted = task['input']
    image_id = task['image_id']
    image = db_api.image_get(image_id)
    location = _location_of(image, wanted['url'])
    status = image['status']
    if location is None or status not in ('importing', 'active') or (
            status == 'active' and image['os_hash_value'] and image['checksum']):
        raise exception.Conflict('Image %s is %s without the location this task imports, or '
                                 'has its hashes already.' % (image_id, status))
    size = image['size']
    algo = wanted.get('os_hash_algo') or CONF.hashing_algorithm
    piece_hasher = pieces.PieceHasher()
    md5 = backend.HashThread(hashlib.md5(usedforsecurity=False))
    multihash = backend.HashThread(hashlib.new(algo), piece_hasher)
    still_wanted = _StillWanted(image_id, status)
    progress.note('Reading the %d bytes at the location in store %s'
                  % (size, location['metadata'].get('store')))
    read = 0
    try:
        chunks = _chunks(location, size)
        try:
            for chunk in chunks:
                read += len(chunk)
                if read > size:
                    break
                md5.feed(chunk)
                multihash.feed(chunk)
                progress.add(len(chunk))
                still_wanted()
        finally:
            close = getattr(chunks, 'close', None)
            if close is not None:
                close()
    finally:
        checksum = md5.finish(green=True).hexdigest()
        digest = multihash.finish(green=True).hexdigest()
    if read != size:
        raise LocationMismatch(reason='it holds %s bytes, not the %d its store reported when '
                                      'it was registered'
                               % ('more' if read > size else read, size))
    if wanted.get('os_hash_value') and wanted['os_hash_value'] != digest:
        raise LocationMismatch(reason='its %s is not the os_hash_value given' % algo)
    piece_map = piece_hasher.finish()
    image = db_api.image_update(image_id, {'status': 'active', 'checksum': checksum,
                                           'os_hash_algo': algo, 'os_hash_value': digest},
                                from_state=status, pieces=piece_map.as_values()
                                if piece_map.image_size == size else None)
    LOG.info('Image %s: its registered location (%d bytes) is hashed%s', image_id, size,
             '; the image is active' if status == 'importing' else '')
    notifier.image_event(None, 'image.activate' if status == 'importing' else 'image.update',
                         image)
    progress.message = 'Verified %d bytes in store %s' % (
        size, location['metadata'].get('store'))
    return {'image_id': image_id, 'checksum': checksum, 'os_hash_algo': algo,
            'os_hash_value': digest}


def abandon(task, message):
    """Undo a failed location import: drop the location, the image back to queued.

    Only for an image that waited in ``importing``: an active one stays as it is. The
    location's data stays in its store: Glance did not write it, and whoever registered it
    may still need it (the audit reports it when nothing uses it).
    """
    image_id = task['image_id']
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        return
    location = _location_of(image, task['input']['url'])
    if image['status'] != 'importing' or location is None:
        return
    try:
        db_api.image_drop_location(image_id, location['id'], from_state='importing',
                                   values={'status': 'queued', 'size': None,
                                           'checksum': None, 'os_hash_algo': None,
                                           'os_hash_value': None})
    except (exception.Conflict, exception.ImageNotFound):
        return
    cache_coherence.invalidate(image_id)
    LOG.warning('Image %s is queued again: its registered location failed (%s)', image_id,
                message)


def start(task):
    """Run a location_import task in this worker (new, or taken over by housekeeping)."""
    task_runner.start(task, run, abandon, data.holder_id())


def resumers():
    """Task type -> how to resume it, for housekeeping (glance.image.task_runner.recover)."""
    return {TASK_TYPE: start}


def list_opts():
    return [(None, location_opts)]
