"""Native threads beside eventlet's hub, and handing them work from green threads.

The unpatched threading and queue modules, and a put that does not block the hub.

Hashing, format inspection and verification run in native threads (hashlib releases the
GIL on large buffers, so they use other cores) fed through bounded queues of chunks.
"""

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
