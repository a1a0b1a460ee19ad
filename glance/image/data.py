"""Image data in and out of the stores: upload, and deleting an image's data.

An upload moves the image queued -> saving -> active. While saving, the image records which
process writes it (``upload_holder``) and when it last made progress
(``upload_heartbeat_at``), so that glance.image.recovery can put it back to queued and delete
the partial data if that process dies. Any failure puts the image back to queued and deletes
what was written.
"""

import contextlib
import hashlib
import os
import socket
import time

import eventlet
from eventlet import patcher
from eventlet import tpool
from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception
from glance.common import notifier
from glance.common import pieces
from glance.db import api as db_api
from glance.db import models
from glance.image import inspection
from glance.image import keystone_limits
from glance.image import service
from glance.store import backend
from glance.store import inventory

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

data_opts = [
    cfg.IntOpt('image_size_cap', default=units.Ti, min=1,
               help='Largest image, in bytes, that may be uploaded (1 TiB by default). '
                    'A larger upload answers 413 and stops being read.'),
    cfg.IntOpt('user_storage_quota', default=0, min=0,
               help='Bytes of image data one project may store in all (0: no limit). An '
                    'upload that would exceed it answers 413 and stops being read. Ignored '
                    'when use_keystone_limits is True (image_size_total applies).'),
    cfg.StrOpt('hashing_algorithm', default='sha512',
               choices=sorted(hashlib.algorithms_guaranteed - {'md5', 'sha1'}),
               help='Algorithm of the os_hash_value computed for every upload.'),
    cfg.IntOpt('upload_heartbeat_interval', default=20, min=1,
               help='Seconds between the progress marks an upload in progress writes on its '
                    'image.'),
]
CONF.register_opts(data_opts)

_UPLOAD_CHUNK = units.Mi
_original_queue = patcher.original('queue')
_BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'


def boot_id():
    try:
        with open(_BOOT_ID_PATH) as f:
            return f.read().strip()
    except OSError:
        return 'unknown'


def holder_id():
    """This process, as recorded on the images it uploads: host:pid:boot."""
    return '%s:%d:%s' % (socket.gethostname(), os.getpid(), boot_id())


class Heartbeat:
    """Called on every chunk of data written: marks the image's progress now and then."""

    def __init__(self, image_id):
        self.image_id = image_id
        self.last = time.monotonic()

    def __call__(self):
        now = time.monotonic()
        if now - self.last >= CONF.upload_heartbeat_interval:
            self.last = now
            db_api.image_update(self.image_id, {'upload_heartbeat_at': models.now()})


class _LimitedReader:
    """The request body as chunks, stopping at the size cap, the quota and Content-Length."""

    def __init__(self, body, limit, limit_error, on_progress):
        self.body = body
        self.limit = limit
        self.limit_error = limit_error
        self.on_progress = on_progress
        self.read_bytes = 0

    def chunks(self):
        while True:
            chunk = self.body.read(_UPLOAD_CHUNK)
            if not chunk:
                return
            self.read_bytes += len(chunk)
            if self.read_bytes > self.limit:
                raise self.limit_error()
            self.on_progress()
            yield chunk


class _Pipe:
    """A file-like read side, fed chunk by chunk from a green thread.

    glance_store's file driver hashes (MD5 and the multihash) and writes in whatever thread
    calls it. Running it in a native thread (eventlet.tpool) lets hashlib, which releases the
    GIL on large buffers, use a second core while this process's hub keeps reading the
    request and serving other clients.
    """

    def __init__(self, depth=4):
        self._queue = _original_queue.Queue(depth)
        self._buffer = b''
        self._offset = 0
        self._done = False
        self.closed = False  # set when the reading side stopped (the store returned/failed)

    def feed(self, chunk):
        """Green side: hand over a chunk (None at the end, or an exception to raise).

        Raises _WriterGone if the store stopped reading: a store that refuses the write
        (the object exists, the disk is full) must answer the client at once, not leave
        this loop waiting for a reader that will never come.
        """
        while True:
            if self.closed:
                raise _WriterGone()
            try:
                self._queue.put_nowait(chunk)
                return
            except _original_queue.Full:
                eventlet.sleep(0.001)

    def read(self, size=-1):
        """Native side: glance_store reads the image from here.

        The current chunk is handed out in slices by offset: slicing a bytes object and
        keeping the rest would copy the rest again at every read.
        """
        parts, wanted = [], size
        while size < 0 or wanted > 0:
            if self._offset >= len(self._buffer):
                if self._done:
                    break
                item = self._queue.get()
                if item is None:
                    self._done = True
                    break
                if isinstance(item, BaseException):
                    self._done = True
                    raise item
                self._buffer, self._offset = item, 0
            end = len(self._buffer) if size < 0 else min(len(self._buffer),
                                                         self._offset + wanted)
            if self._offset == 0 and end == len(self._buffer):
                parts.append(self._buffer)
            else:
                parts.append(self._buffer[self._offset:end])
            wanted -= end - self._offset
            self._offset = end
        return parts[0] if len(parts) == 1 else b''.join(parts)


class _WriterGone(Exception):
    """The store stopped reading the upload (it failed, or returned early)."""


def _store(image_id, chunks, size, store, context, disk_format):
    """Write the chunks to the store.

    Returns glance_store's add() tuple, the PieceMap and the format Inspection (whose
    ``finish()`` gives the verdict). The piece hashes and the format inspection see the same
    chunks as MD5 and the multihash: on the multihash's thread for the file store, on one
    native thread of their own for the other stores (glance_store hashes inside add()).
    """
    algo = CONF.hashing_algorithm
    piece_hasher = pieces.PieceHasher()
    inspector = inspection.Inspection(disk_format)
    observers = (piece_hasher, inspector)
    if backend.fast_file_path(store):
        result = _write_file(image_id, chunks, size, store, algo, observers)
        return result, piece_hasher.finish(), inspector
    observer_thread = backend.HashThread(*observers)

    def observed(chunks):
        for chunk in chunks:
            observer_thread.feed(chunk)
            yield chunk

    try:
        result = backend.add(image_id, _IterFile(observed(chunks)), size, store, algo,
                             context)
    finally:
        observer_thread.finish(green=True)
    return result, piece_hasher.finish(), inspector


def _write_file(image_id, chunks, size, store, algo, observers):
    """The file store's add() in a native thread, fed from this green thread."""
    pipe = _Pipe()

    def write():
        try:
            return backend.fast_file_add(image_id, pipe.read, size, store, algo,
                                         observers=observers)
        finally:
            pipe.closed = True

    writer = eventlet.spawn(tpool.execute, write)
    fed_all = False
    try:
        for chunk in chunks:
            pipe.feed(chunk)
        fed_all = True
        pipe.feed(None)
    except _WriterGone:
        result = writer.wait()  # raises the store's own error, if it failed
        if fed_all:
            return result  # it finished before it needed the end mark
        raise exception.BadRequest('The store stopped reading the image data before its '
                                   'end.')
    except BaseException as e:
        pipe.closed = True
        with contextlib.suppress(_original_queue.Full):
            pipe._queue.put_nowait(exception.BadRequest('upload interrupted'))
        try:
            writer.wait()
        except Exception:
            pass
        raise e
    return writer.wait()


class _IterFile:
    """Chunks as the file-like object glance_store reads."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buffer = b''

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def begin_writing(image_id, store, status='saving', from_state='queued', values=None):
    """Mark the image as being written by this process to ``store`` (compare-and-set).

    Records the writer (``upload_holder``), its first progress mark and the target store
    (``upload_store``), so that glance.image.recovery can find and delete the partial data
    in that store if this process dies. Upload, stage and import call it when they start
    writing. Conflict if the image is no longer ``from_state``.
    """
    record = {'status': status, 'upload_holder': holder_id(),
              'upload_heartbeat_at': models.now(), 'upload_store': store}
    record.update(values or {})
    return db_api.image_update(image_id, record, from_state=from_state)


def clean_partial(image_id, store, location=None):
    """Delete the data a failed or dead write of ``image_id`` to ``store`` left.

    ``location`` is what the store returned, when it returned; otherwise whatever the store
    holds under the image id (a partial file, Swift segments, an S3 multipart upload).
    """
    if location is not None:
        backend.delete(location)
    if store and store in CONF.enabled_backends:
        inventory.clean_partial(store, image_id)


def upload(context, image_id, body, size, store=None):
    """Stream a request body into the store and activate the image."""
    image, policy = service.get_for(context, image_id)
    policy.upload()
    if image['status'] != 'queued':
        raise exception.InvalidImageStatusTransition(cur_status=image['status'],
                                                     new_status='saving')
    if not image['disk_format'] or not image['container_format']:
        raise exception.BadRequest('Properties container_format, disk_format must be set '
                                   'prior to saving data.')
    store = backend.check_backend(store) if store else backend.default_backend()
    limit, limit_error = _limit(context, image['owner'], size)
    if size is not None and size > limit:
        raise limit_error()
    notifier.image_event(context, 'image.prepare', image, backend=store)
    begin_writing(image_id, store, values={'size': size})
    reader = _LimitedReader(body, limit if size is None else min(limit, size), limit_error,
                            Heartbeat(image_id))
    location = None
    try:
        (url, written, checksum, multihash, metadata), piece_map, inspector = _store(
            image_id, reader.chunks(), size or 0, store, context, image['disk_format'])
        location = {'url': url, 'metadata': metadata}
        _format, virtual_size = inspector.finish()  # ImageRefused: undone below, 400
        if size is not None and written != size:
            raise exception.BadRequest('Expected %d bytes of image data, got %d.'
                                       % (size, written))
        image = db_api.image_activate(
            image_id, {'size': written, 'checksum': checksum, 'virtual_size': virtual_size,
                       'os_hash_algo': CONF.hashing_algorithm, 'os_hash_value': multihash},
            location, pieces=piece_map.as_values() if piece_map.image_size == written else None)
    except BaseException as e:
        notifier.error(context, 'image.upload', 'Image %s could not be uploaded: %s'
                       % (image_id, type(e).__name__))
        # A Duplicate means the object at that path is not this upload's: leave it alone.
        _abandon(image_id, store, location,
                 delete_data=not isinstance(e, store_exc.Duplicate))
        if isinstance(e, store_exc.StorageFull):
            raise exception.LimitExceeded(reason='the image store is full')
        if isinstance(e, store_exc.Duplicate):
            raise exception.Conflict('Image data for %s already exists in the store.'
                                     % image_id)
        if isinstance(e, (store_exc.BackendException, store_exc.GlanceStoreException)):
            LOG.error('Upload of image %s to store %s failed: %s', image_id, store,
                      type(e).__name__)
            raise exception.BackendUnavailable()
        if isinstance(e, exception.GlanceException) or not isinstance(e, Exception):
            raise
        if isinstance(e, (OSError, ValueError)):
            raise exception.BadRequest('The image data could not be read: %s' % e)
        LOG.exception('Upload of image %s to store %s failed', image_id, store)
        raise exception.BackendUnavailable()
    LOG.info('Image %s uploaded to store %s: %d bytes', image_id, store, image['size'])
    notifier.image_event(context, 'image.upload', image)
    notifier.image_event(context, 'image.activate', image)
    return image


def _limit(context, owner, size, in_transit=False):
    """The most bytes this upload may have, and the error past it.

    ``in_transit``: the image already counts as in transit (keystone_limits.enforce_upload).
    """
    cap = CONF.image_size_cap
    if keystone_limits.enabled():
        remaining = keystone_limits.enforce_upload(context, owner, size, in_transit)
        if remaining is not None and remaining < cap:
            return remaining, lambda: exception.LimitExceeded(
                reason='the upload would exceed the image data limits of project %s '
                       '(image_size_total, image_stage_total)' % owner)
        return cap, exception.ImageSizeLimitExceeded
    if not CONF.user_storage_quota:
        return cap, exception.ImageSizeLimitExceeded
    remaining = CONF.user_storage_quota - db_api.image_storage_used(owner)
    if remaining < cap:
        def quota_error():
            return exception.StorageQuotaFull(image_size='this upload',
                                              remaining=max(remaining, 0))
        return max(remaining, 0), quota_error
    return cap, exception.ImageSizeLimitExceeded


def _abandon(image_id, store, location, delete_data=True):
    """Undo a failed upload: delete what was written, put the image back to queued."""
    if delete_data:
        try:
            clean_partial(image_id, store, location)
        except Exception as e:
            LOG.error('Could not delete the partial data of image %s: %s', image_id,
                      type(e).__name__)
    try:
        db_api.image_update(image_id, {'status': 'queued', 'upload_holder': None,
                                       'upload_heartbeat_at': None, 'upload_store': None,
                                       'size': None},
                            from_state='saving')
    except (exception.Conflict, exception.ImageNotFound):
        pass  # deleted meanwhile: nothing to put back


def list_opts():
    return [(None, data_opts)]
