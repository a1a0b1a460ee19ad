"""HTTP Range requests over an image of known size: one byte range, as RFC 9110 says.

``parse`` turns a Range header into an inclusive (start, end) pair, None for "send it all"
(no header, or a header this server ignores, such as several ranges), or raises
RangeNotSatisfiable (416).
"""

import re

from glance.common import exception

_RANGE = re.compile(r'^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$')


def parse(header, size):
    if not header:
        return None
    if ',' in header:
        return None  # several ranges: answer the whole image, which RFC 9110 allows
    match = _RANGE.match(header)
    if not match or not (match.group(1) or match.group(2)):
        return None  # malformed: ignore the header
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise exception.RangeNotSatisfiable()
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise exception.RangeNotSatisfiable()
    return start, min(end, size - 1)


def content_range(start, end, size):
    return 'bytes %d-%d/%d' % (start, end, size)
