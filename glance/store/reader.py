"""Read an image's bytes from its store, verified before any byte is handed out.

The guarantee: every byte this module yields was checked against a hash glance recorded for
the image, before it was yielded.

* An image with a piece map (glance.common.pieces) is read piece by piece; each piece is
  hashed (in native threads, several at once, so a cold read uses every core) and yielded
  only once it matches. A byte range reads just the pieces that cover it and slices them.
* An image without one (uploaded before piece maps existed, or registered by location) is
  verified by its multihash over the whole image; the last chunk is held back until the
  hash matches, so a client that received every byte never sees a clean end of bad data.
  That first full read also computes the image's piece map and records it. A byte range of
  such an image first makes that full verified read, then serves the range by pieces.

A mismatch logs the corruption and raises ImageDataCorrupt from the iterator: the server
then drops the connection, so the client sees a cut transfer, never wrong bytes with a
success status.
"""

import collections
import hashlib
import os

import eventlet
from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import native
from glance.common import pieces
from glance.db import api as db_api
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

reader_opts = [
    cfg.IntOpt('verify_threads', default=4, min=1, max=64,
               help='Pieces of one read hashed at once, each in a native thread. More than '
                    'the number of cores gains nothing; 1 verifies on one core.'),
]
CONF.register_opts(reader_opts, group='stream')

corruptions = collections.Counter()  # image id -> mismatches seen by this process


def first_location(image):
    """The location to read: the one in the store of highest weight."""
    for location in backend.by_weight(image['locations']):
        if location.get('status', 'active') == 'active':
            return location
    raise exception.NotFound('Image %s has no data.' % image['id'])


def piece_map(image):
    """The image's PieceMap (loaded once per image dict), or None if it has none."""
    if 'piece_map' not in image:
        found = pieces.PieceMap.from_row(db_api.image_pieces_get(image['id']))
        if found is not None and found.image_size != image.get('size'):
            LOG.error('Image %s has a piece map for %d bytes but a size of %s; ignoring it',
                      image['id'], found.image_size, image.get('size'))
            found = None
        image['piece_map'] = found
    return image['piece_map']


def corrupt(image, detail):
    """Log and count a mismatch, and return the exception that cuts the transfer."""
    corruptions[image['id']] += 1
    LOG.error('Image %s data is corrupt in its store: %s', image['id'], detail)
    return exception.ImageDataCorrupt(image_id=image['id'])


def open_raw(image, context=None):
    """The whole image as the store gives it, unverified: only for verifying readers."""
    data, _size = backend.get(first_location(image), context=context)
    return data


def open_verified(image, context=None, reuse_buffers=False):
    """The whole image, verified, as an iterator of chunks (what the cache fill stores).

    ``reuse_buffers``: the caller is done with each chunk before it asks for the next one
    (the cache fill writes it to its file), so pieces of a local file are read into a few
    buffers used again and again, as memoryviews, instead of a fresh 8 MiB allocation per
    piece, which the kernel faults in and zeroes page by page (260,000 page faults and
    about a second of CPU per GiB, measured with perf on a cold fill).
    """
    if not image['size']:
        return iter(())
    if piece_map(image) is not None:
        return _verified_pieces(image, 0, image['size'] - 1, context,
                                reuse_buffers=reuse_buffers)
    return _verified_whole(image, open_raw(image, context))


def read(image, start=0, end=None, context=None, open_whole=open_verified):
    """Bytes ``start``..``end`` (inclusive) of the image, verified.

    ``open_whole(image)`` supplies the whole image, verified (the store, or a cache).
    """
    size = image['size']
    end = size - 1 if end is None else end
    if start == 0 and end == size - 1:
        yield from open_whole(image)
        return
    if piece_map(image) is None and not image.get('os_hash_value'):
        # No hash was ever recorded (nothing to verify against beyond the size).
        yield from _slice(_verified_whole(image, open_raw(image, context)), start, end)
        return
    if piece_map(image) is None:
        # The first range read of an image without a piece map: verify the whole image once
        # (which records its map), then serve the range by pieces like any other.
        LOG.info('Image %s has no piece map: verifying it whole before a range read',
                 image['id'])
        for _chunk in _verified_whole(image, open_raw(image, context)):
            pass
    yield from _verified_pieces(image, start, end, context)


# --- piece-verified reads -------------------------------------------------------------------

def _verified_pieces(image, start, end, context=None, reuse_buffers=False):
    """Bytes start..end, read as whole pieces, each verified before it is sliced and yielded.

    Pieces are hashed in native threads, up to ``[stream] verify_threads`` at once, and
    yielded in order. With ``reuse_buffers`` (see open_verified), a local file's pieces come
    as memoryviews of buffers that are read into again once the consumer asks for the next.
    """
    pmap = piece_map(image)
    indexes = pmap.covering(start, end)
    location = first_location(image)
    path = backend.file_path(location)
    depth = CONF.stream.verify_threads
    fd = None
    if path is not None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise exception.NotFound('The image data is missing from its store.')
        # depth pieces in flight and the one the consumer holds
        pool = _BufferPool(depth + 1, pmap.piece_size) if reuse_buffers else None
        jobs = _file_jobs(fd, pmap, indexes, pool)
    else:
        pool = None
        jobs = _store_jobs(image, location, pmap, indexes, context)
    window = collections.deque()
    try:
        for index, job in jobs:
            window.append((index, eventlet.spawn(tpool.execute, job)))
            if len(window) >= depth:
                index, data, digest, buffer = _pop(window)
                yield _checked(image, pmap, start, end, index, data, digest)
                if buffer is not None:
                    pool.give(buffer)  # the consumer is done with it
        while window:
            index, data, digest, buffer = _pop(window)
            yield _checked(image, pmap, start, end, index, data, digest)
            if buffer is not None:
                pool.give(buffer)
    finally:
        for _index, thread in window:
            try:
                thread.wait()  # a native thread may still read the file: let it finish
            except Exception:
                pass
        _close(jobs)
        if fd is not None:
            os.close(fd)


def _pop(window):
    """(index, data, digest, pooled buffer or None) of the oldest job in flight."""
    index, thread = window.popleft()
    return (index, *thread.wait())


def _checked(image, pmap, start, end, index, data, digest):
    if not pmap.matches_digest(index, len(data), digest):
        raise corrupt(image, 'piece %d (bytes %d-%d) does not match its %s'
                      % (index, *pmap.span(index), pmap.algo))
    piece_start, piece_end = pmap.span(index)
    if piece_start >= start and piece_end - 1 <= end:
        return data
    return data[max(start - piece_start, 0):end - piece_start + 1]


def _file_jobs(fd, pmap, indexes, pool=None):
    """(index, job) per piece: a job reads and hashes one piece of a local file.

    A job returns (data, digest, buffer). With a pool, it reads into one of the pool's
    buffers, and data is a memoryview of it; _verified_pieces gives the buffer back once the
    consumer asks for the next piece. Without, data is bytes and buffer None.
    """
    for index in indexes:
        piece_start, piece_end = pmap.span(index)
        if pool is None:
            def job(offset=piece_start, length=piece_end - piece_start):
                data = os.pread(fd, length, offset)
                return data, pieces.new_hash(pmap.algo, data).digest(), None
        else:
            def job(offset=piece_start, length=piece_end - piece_start):
                buffer = pool.take()
                view = memoryview(buffer)[:length]
                data = view[:os.preadv(fd, [view], offset)]
                return data, pieces.new_hash(pmap.algo, data).digest(), buffer
        yield index, job


class _BufferPool:
    """A fixed set of same-size buffers, taken by native threads and given back in order."""

    def __init__(self, count, size):
        self._free = native.queue.LifoQueue()
        for _ in range(count):
            self._free.put(bytearray(size))

    def take(self):
        return self._free.get(timeout=60)  # never waits: one more buffer than the window

    def give(self, buffer):
        self._free.put(buffer)


def _store_jobs(image, location, pmap, indexes, context):
    """(index, job) per piece read from the store's iterator; a job hashes the piece."""
    first_start = pmap.span(indexes[0])[0]
    last_end = pmap.span(indexes[-1])[1]
    if backend.supports_offset(location):
        data, _ = backend.get(location, offset=first_start, length=last_end - first_start,
                              context=context)
        position = first_start
    else:
        data, _ = backend.get(location, context=context)
        position = 0
    buffer = bytearray()
    index = indexes[0]
    try:
        for chunk in data:
            if position + len(chunk) <= first_start:
                position += len(chunk)  # before the first piece asked for: skipped unread
                continue
            if position < first_start:
                chunk = chunk[first_start - position:]
                position = first_start
            position += len(chunk)
            buffer += chunk
            while index <= indexes[-1]:
                piece_start, piece_end = pmap.span(index)
                length = piece_end - piece_start
                if len(buffer) < length:
                    break
                piece = bytes(buffer[:length])
                del buffer[:length]
                yield index, _hash_job(pmap.algo, piece)
                index += 1
            if index > indexes[-1]:
                return
        if index <= indexes[-1]:
            # The store gave fewer bytes than the image has: the short piece fails its check.
            yield index, _hash_job(pmap.algo, bytes(buffer))
    finally:
        _close(data)


def _hash_job(algo, data):
    return lambda: (data, pieces.new_hash(algo, data).digest(), None)


# --- whole-image (multihash) reads ------------------------------------------------------------

def _verified_whole(image, chunks):
    """Pass chunks through, holding the last one back until the whole image is verified.

    The multihash and the piece map are computed in one native thread beside this loop
    (BLAKE3 pieces add a seventh to SHA-512's cost); the piece map is recorded when the
    multihash matches. An image with no recorded hash gets neither: nothing could vouch
    for a map made from its bytes.
    """
    piece_hasher = pieces.PieceHasher()
    hashing = backend.HashThread(hashlib.new(image['os_hash_algo']), piece_hasher) \
        if image.get('os_hash_value') else None
    length = 0
    held = None
    try:
        for chunk in chunks:
            if not chunk:
                continue
            length += len(chunk)
            if hashing is not None:
                hashing.feed(chunk)
            if held is not None:
                yield held
            held = chunk
        digest = hashing.finish(green=True).hexdigest() if hashing else None
        size = image.get('size')
        if size is not None and length != size:
            raise corrupt(image, '%d bytes read, %d expected' % (length, size))
        if hashing is not None and digest != image['os_hash_value']:
            raise corrupt(image, '%s mismatch' % image['os_hash_algo'])
        if hashing is not None:
            pmap = piece_hasher.finish()
            image['piece_map'] = pmap  # verified: this request's range reads may use it
            _record_piece_map(image, pmap)
        if held is not None:
            yield held
    finally:
        _close(chunks)


def _record_piece_map(image, pmap):
    """Record the piece map of a verified image that had none (once; later reads use it)."""
    try:
        if db_api.image_pieces_add(image['id'], pmap.as_values()):
            LOG.info('Recorded the piece map of image %s (%d pieces of %d bytes)',
                     image['id'], pmap.count, pmap.piece_size)
    except Exception as e:  # the read itself was good: only the map is missing
        LOG.warning('Could not record the piece map of image %s: %s', image['id'], e)


def _slice(chunks, start, end):
    position = 0
    try:
        for chunk in chunks:
            chunk_end = position + len(chunk)
            if chunk_end > start and position <= end:
                yield chunk[max(start - position, 0):end - position + 1]
            position = chunk_end
            if position > end:
                break
    finally:
        _close(chunks)


def _close(iterator):
    close = getattr(iterator, 'close', None)
    if close is not None:
        close()


def list_opts():
    return [('stream', reader_opts)]
