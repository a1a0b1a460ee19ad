"""Read an image's bytes from its backend, verifying its multihash while streaming.

``open_backend(image)`` gives the whole image as an iterator of chunks (this is the seam the
cache wraps); ``read(image, start, end)`` gives a byte range, verified when it is the whole
image. A mismatch raises ImageDataCorrupt from the iterator: the server then drops the
connection, so the client sees a short transfer, never a clean end with wrong bytes.
"""

import hashlib

from oslo_log import log as logging

from glance.common import exception
from glance.store import backend

LOG = logging.getLogger(__name__)


def first_location(image):
    for location in image['locations']:
        if location.get('status', 'active') == 'active':
            return location
    raise exception.NotFound('Image %s has no data.' % image['id'])


class Verifier:
    """Hash chunks as they pass; ``check()`` at the end compares with the image record."""

    def __init__(self, image):
        self.image = image
        self.hasher = hashlib.new(image['os_hash_algo']) if image.get('os_hash_value') \
            else None
        self.length = 0

    def update(self, chunk):
        self.length += len(chunk)
        if self.hasher is not None:
            self.hasher.update(chunk)

    def check(self):
        size = self.image.get('size')
        if size is not None and self.length != size:
            self._corrupt('%d bytes read, %d expected' % (self.length, size))
        if self.hasher is not None and self.hasher.hexdigest() != self.image['os_hash_value']:
            self._corrupt('%s mismatch' % self.image['os_hash_algo'])

    def _corrupt(self, detail):
        LOG.error('Image %s data is corrupt in its store: %s', self.image['id'], detail)
        raise exception.ImageDataCorrupt(image_id=self.image['id'])


def open_raw(image, context=None):
    """The whole image as the backend gives it, unverified (the cache fill hashes it)."""
    data, _size = backend.get(first_location(image), context=context)
    return data


def open_backend(image, context=None):
    """The whole image, verified, as an iterator of chunks."""
    yield from verified(image, open_raw(image, context))


def verified(image, chunks):
    """Pass chunks through, holding the last one back until the whole image is verified.

    Holding it back matters: the response has a Content-Length, so a client that received
    every byte would see a clean end even if the hash then failed.
    """
    verifier = Verifier(image)
    held = None
    try:
        for chunk in chunks:
            if not chunk:
                continue
            verifier.update(chunk)
            if held is not None:
                yield held
            held = chunk
        verifier.check()
        if held is not None:
            yield held
    finally:
        _close(chunks)


def read(image, start=0, end=None, context=None, open_whole=open_backend):
    """Bytes ``start``..``end`` (inclusive) of the image; the whole image is verified.

    ``open_whole(image)`` supplies the whole image (the backend, or the cache in front of it).
    A part of the image is read from an offset where the store can, else by skipping.
    """
    size = image['size']
    end = size - 1 if end is None else end
    if start == 0 and end == size - 1:
        yield from open_whole(image)
        return
    location = first_location(image)
    if open_whole is open_backend and backend.supports_offset(location):
        data, _ = backend.get(location, offset=start, length=end - start + 1,
                              context=context)
        try:
            yield from data
        finally:
            _close(data)
        return
    yield from _slice(open_whole(image), start, end)


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
