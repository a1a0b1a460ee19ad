"""Keep large, short-lived buffers from staying resident after use.

glance-api and glance-stream handle image data in large buffers (1 MiB upload chunks, 8 MiB
pieces), allocated and freed in several native threads (hashing, verification). glibc
serves an allocation above its mmap threshold with mmap and returns it to the system when it
is freed, but it raises that threshold after the first such free (up to 32 MiB): from then
on the buffers come from per-thread arenas, which keep them. Measured on a cold 1 GiB
download: glance-stream grew by 157 MiB with glibc's default, by 2 MiB with the threshold
fixed at 1 MiB, at no measurable cost in throughput.

glance-api fixes it higher, at 4 MiB. Its big buffers are the 1 MiB chunks of an upload's
request body, allocated by the one thread that reads the socket: above the threshold each
chunk is a fresh mapping, and the kernel faults and zeroes every page of it before the body
is copied in (264,000 page faults per GiB uploaded, about 0.5 s of CPU per GiB, measured
with perf). Below it, they come from the main arena and are reused: 16,000 faults per GiB,
and the worker's resident size grows by about 14 MiB.
"""

import ctypes
import ctypes.util

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024
_SERVICE_THRESHOLDS = {'glance-api': 4 * 1024 * 1024}


def threshold_for(service):
    return _SERVICE_THRESHOLDS.get(service, MMAP_THRESHOLD)


def fix_mmap_threshold(threshold=MMAP_THRESHOLD):
    """Fix glibc's mmap threshold (which also stops its dynamic adjustment); True if done."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):  # not glibc: nothing to tune
        LOG.debug('mallopt is not available; the mmap threshold is left as it is')
        return False
