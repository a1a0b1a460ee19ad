"""HTTP responses that carry image data: status, headers, byte ranges (RFC 9110).

Used by glance-stream's reader app and cache filter, and by glance-api's proxy mode, so a
download answers the same whichever of them serves it. The body is any iterator of
verified chunks (glance.store.reader) or a cached file range; once it is all sent,
``image.send`` is notified (glance.common.notifier).

Ranges: one ``bytes=`` range is answered 206 with ``Content-Range``; several ranges, a
malformed or invalid header (``bytes=10-5``), or an ``If-Range`` whose validator is not
the image's ETag get the whole image (200); a range that starts past the end is 416 with
``Content-Range: bytes */<size>``. Headers never say where or how the bytes are stored.
"""

import webob

from glance.common import exception
from glance.common import notifier


def byte_range(req, size):
    """(start, end) inclusive for the request's Range, or None for the whole image."""
    header = req.headers.get('Range')
    if not header or ',' in header:
        return None
    if 'If-Range' in req.headers and not _if_range_matches(req):
        return None
    if header.replace(' ', '').lower() == 'bytes=-0':
        raise exception.RangeNotSatisfiable(size=size)  # an empty suffix
    parsed = req.range  # webob: None for a malformed or invalid range, which is ignored
    if parsed is None:
        return None
    span = parsed.range_for_length(size)
    if span is None:
        raise exception.RangeNotSatisfiable(size=size)
    return span[0], span[1] - 1


def _if_range_matches(req):
    """If-Range holds only with a strong ETag equal to ours (we send no Last-Modified)."""
    value = req.headers['If-Range'].strip()
    etag = req.environ.get('glance.etag')
    return bool(etag) and not value.startswith('W/') and value.strip('"') == etag


def data_response(req, image, read_range):
    """The 200/206 response for an image with data (416 raised as RangeNotSatisfiable).

    ``read_range(start, end)`` returns (source, body): where the bytes come from ('hit',
    'fill', 'follow', 'backend'...) and the iterator of verified bytes; it is not called
    for HEAD.
    """
    size = image['size'] or 0
    resp = webob.Response(request=req)
    resp.content_type = 'application/octet-stream'
    resp.headers['Accept-Ranges'] = 'bytes'
    if image['checksum']:
        resp.headers['Content-MD5'] = image['checksum']
    if image['os_hash_value']:
        resp.etag = image['os_hash_value']
        req.environ['glance.etag'] = image['os_hash_value']
    span = byte_range(req, size) if size else None
    start, end = span if span is not None else (0, size - 1)
    if span is not None:
        resp.status_int = 206
        resp.headers['Content-Range'] = 'bytes %d-%d/%d' % (start, end, size)
    if req.method != 'HEAD' and size:
        source, body = read_range(start, end)
        resp.app_iter = notifier.SentBody(req.environ.get('glance.context'), image,
                                          _primed(body), end - start + 1)
        if source:
            resp.headers['X-Image-Cache'] = source
    # After app_iter, which resets it: clients need the length to detect a cut transfer.
    # A cache hit's body is a FileRange, which the eventlet server sends with sendfile.
    resp.content_length = end - start + 1 if size else 0
    return resp


def _primed(body):
    """The body with its first chunk already read.

    An error that comes before any byte (the data missing from its store, a store that
    does not answer, a corrupt first piece) is then raised here, and answered with its
    own status instead of a 200 cut short. A cached file range is left as it is, for
    sendfile; a SliceBody primes itself.
    """
    if getattr(body, 'sendfile_fd', None) is not None:
        return body
    if hasattr(body, 'prime'):  # glance.common.wsgi.SliceBody
        return body.prime()
    iterator = iter(body)
    try:
        first = next(iterator)
    except StopIteration:
        return []
    return _Primed(first, iterator)


class _Primed:
    """An iterator whose first chunk was read ahead; close() reaches the one below."""

    def __init__(self, first, iterator):
        self.first = first
        self.iterator = iterator

    def __iter__(self):
        if self.first is not None:
            first, self.first = self.first, None
            yield first
        yield from self.iterator

    def close(self):
        close = getattr(self.iterator, 'close', None)
        if close is not None:
            close()


def no_data_response(req):
    return webob.Response(request=req, status=204)
