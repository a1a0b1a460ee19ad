"""A store that refuses an upload: a prompt, honest answer, and nothing left behind.

Real glance-api processes on loopback and a real file store: the object already exists
(409), the store's filesystem is full (413, a tmpfs the test mounts). The image goes back to
queued, no partial data stays in the store, and 50 refused uploads leave the worker's
threads and memory where they were.
"""

import os
import subprocess
import tempfile
import time

from glance.tests.functional.data import test_data_path

MiB = 1024 * 1024


def _threads(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Threads:'):
                return int(line.split()[1])
    return 0


def _worker(server):
    children = subprocess.run(['pgrep', '-P', str(server.proc.pid)], capture_output=True,
                              text=True).stdout.split()
    return int(children[0]) if children else server.proc.pid


class TestStoreRefusesTheWrite(test_data_path.DataTest):

    server_kwargs = {'stream': False}

    def test_existing_object_is_a_prompt_409_and_the_image_stays_queued(self):
        image = self.create()
        planted = os.path.join(self.servers.store_dir, image['id'])
        with open(planted, 'wb') as f:
            f.write(b'someone else\'s bytes')
        started = time.monotonic()
        resp = self.upload(image['id'], os.urandom(3 * MiB), expect=409)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn('already exists', resp.text)
        self.assertEqual('queued', self.show(image['id'])['status'])
        with open(planted, 'rb') as f:
            self.assertEqual(b'someone else\'s bytes', f.read())  # never overwritten

    def test_fifty_refused_uploads_leave_no_thread_or_memory_behind(self):
        worker = _worker(self.servers.api)
        # warm up: the first upload loads what every later one uses
        image = self.create()
        self.upload(image['id'], os.urandom(MiB))
        threads_before = _threads(worker)
        rss_before = test_data_path._rss_kib(worker)
        for _ in range(50):
            image = self.create()
            with open(os.path.join(self.servers.store_dir, image['id']), 'wb') as f:
                f.write(b'x')
            self.upload(image['id'], os.urandom(2 * MiB), expect=409)
        time.sleep(1)
        self.assertLessEqual(_threads(worker), threads_before + 2)
        self.assertLess(test_data_path._rss_kib(worker) - rss_before, 30 * 1024)


class TestFullStore(test_data_path.DataTest):
    """The file store on a 4 MiB tmpfs the test mounts."""

    shared_servers = False

    def setUp(self):
        self.mount = tempfile.mkdtemp(prefix='glance-store-tmpfs-')
        result = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'tmpfs',
                                 self.mount], capture_output=True)
        if result.returncode != 0:
            self.skipTest('cannot mount a tmpfs here: %s' % result.stderr.decode().strip())
        self.addCleanup(subprocess.run, ['umount', '-l', self.mount])
        self.server_kwargs = {'stream': False, 'common_conf': {
            'local': {'filesystem_store_datadir': self.mount}}}
        super().setUp()

    def test_full_disk_is_a_prompt_413_and_nothing_stays(self):
        image = self.create()
        started = time.monotonic()
        resp = self.upload(image['id'], os.urandom(6 * MiB), expect=413)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn('full', resp.text)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertEqual([], os.listdir(self.mount))
        # the store still takes what fits
        self.upload(image['id'], os.urandom(MiB))
        self.assertEqual('active', self.show(image['id'])['status'])
