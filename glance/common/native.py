"""Native threads beside eventlet's hub, and handing them work from green threads.

The unpatched threading and queue modules, and a put that does not block the hub.

Hashing, format inspection and verification run in native threads (hashlib releases the
GIL on large buffers, so they use other cores) fed through bounded queues of chunks.
"""

import os

import eventlet
from eventlet import patcher

threading = patcher.original('threading')
queue = patcher.original('queue')


def put_green(target, item):
    """Put ``item`` on a native bounded queue from a green thread, yielding while full.

    A blocking put would stop every green thread of the process.
    """
    while True:
        try:
            target.put_nowait(item)
            return
        except queue.Full:
            eventlet.sleep(0.001)


def write_all(fd, data):
    """Write all of ``data`` (bytes or a memoryview) to the file descriptor ``fd``.

    Meant for a native thread (``tpool.execute(write_all, fd, chunk)``): copying into the
    page cache costs about 1.3 s of CPU per GiB on the reference machine, which on the hub
    would stall every other request of the process.
    """
    view = memoryview(data)
    while view:  # a write may be short
        view = view[os.write(fd, view):]


def reset_tpool_after_fork():
    """Forget eventlet's native thread pool inherited from the parent; call in a forked child.

    eventlet.tpool has no fork handling: a child forked after its parent used the pool
    inherits the pool's "set up" state but none of its threads, and its first
    ``tpool.execute`` (a cache write, an fsync, a hash) waits forever. After this, the
    child's first ``tpool.execute`` sets up a pool of its own. (Private names of eventlet's:
    it offers no public way; the test that forks after tpool use covers it.)
    """
    from eventlet import tpool
    if not tpool._setup_already:
        return
    for sock in (tpool._rsock, tpool._wsock):
        try:
            if sock is not None:
                sock.close()  # the child's copy of the descriptor; the parent keeps its own
        except Exception:
            pass
    tpool._threads[:] = []
    tpool._reqq = tpool._rspq = None
    tpool._rsock = tpool._wsock = None
    tpool._coro = None
    tpool._setup_already = False
