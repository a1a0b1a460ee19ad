"""pid_alive: a running process is alive; an exited one, reaped or a zombie, is not."""

import os
import subprocess
import sys
import time

import testtools

from glance.common import processes


def _state(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0]


class TestPidAlive(testtools.TestCase):

    def _child(self, code):
        child = subprocess.Popen([sys.executable, '-c', code])
        self.addCleanup(lambda: (child.poll() is None and child.kill(), child.wait()))
        return child

    def test_this_process_and_a_running_child_are_alive(self):
        self.assertTrue(processes.pid_alive(os.getpid()))
        child = self._child('import time; time.sleep(60)')
        self.assertTrue(processes.pid_alive(child.pid))

    def test_a_reaped_child_is_dead(self):
        child = self._child('pass')
        child.wait()
        self.assertFalse(processes.pid_alive(child.pid))

    def test_a_zombie_child_is_dead(self):
        child = self._child('pass')
        # not waited for: it stays a zombie, which still answers signal 0
        deadline = time.monotonic() + 30
        while _state(child.pid) != 'Z' and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual('Z', _state(child.pid))
        os.kill(child.pid, 0)
        self.assertFalse(processes.pid_alive(child.pid))

    def test_a_process_of_another_user_is_alive(self):
        if os.getuid() in (0, os.stat('/proc/1').st_uid):
            self.skipTest('this user may signal process 1')
        self.assertTrue(processes.pid_alive(1))
