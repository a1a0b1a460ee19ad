"""Native threads beside eventlet: a forked child gets a working thread pool of its own."""

import multiprocessing
import os

import eventlet
from eventlet import tpool
import testtools

from glance.common import native


def _child(queue):
    eventlet.hubs.use_hub()
    native.reset_tpool_after_fork()
    queue.put(tpool.execute(os.getpid))


class TestTpoolAfterFork(testtools.TestCase):

    def test_a_forked_child_runs_native_work(self):
        tpool.execute(os.getpid)  # the parent's pool is set up before the fork
        ctx = multiprocessing.get_context('fork')
        queue = ctx.Queue()
        child = ctx.Process(target=_child, args=(queue,))
        child.start()
        try:
            pid = queue.get(timeout=30)  # without the reset, the child waits forever
        finally:
            child.join(10)
            if child.is_alive():
                child.kill()
        self.assertEqual(child.pid, pid)
        self.assertEqual(os.getpid(), tpool.execute(os.getpid))  # the parent's still works
