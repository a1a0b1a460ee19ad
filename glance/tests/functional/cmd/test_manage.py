"""glance-manage as an operator runs it: a subprocess, its exit status and what it prints.

Each case is a mistake that used to pass silently or end in a traceback: no configuration
file, a database driver that is not installed, cache commands without a stream node or for
an image that cannot be cached, and ``cache queue --wait`` on an image that never fills.
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid

import requests

from glance.tests.functional import base

HEADERS = {'X-Roles': 'admin,member,reader'}


def manage(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, '-m', 'glance.cmd.manage'] + list(args),
                          capture_output=True, text=True, timeout=120, env=env,
                          cwd=cwd or base.ROOT)


class TestManageConfig(base.FunctionalTest):
    """Mistakes in how glance-manage is invoked or configured."""

    server_kwargs = {'stream': False}
    shared_servers = True

    def test_db_sync_without_a_config_file_refuses(self):
        home = tempfile.mkdtemp(dir=self.servers.dir)
        env = dict(os.environ, HOME=home)
        result = manage('db', 'sync', env=env, cwd=home)
        self.assertEqual(1, result.returncode, result.stdout)
        self.assertIn('no configuration file', result.stderr)
        self.assertIn('--config-file', result.stderr)
        # and nothing was created behind the operator's back
        self.assertFalse(os.path.exists(os.path.join(home, '.local', 'share', 'glance')))

    def test_missing_database_driver_is_one_line(self):
        conf = os.path.join(self.servers.dir, 'mysqldb.conf')
        base.write_conf(conf, {'DEFAULT': {'state_path': self.servers.state},
                               'database': {'connection': 'mysql+mysqldb://root@127.0.0.1/x'}})
        result = manage('--config-file', conf, 'db', 'sync')
        self.assertEqual(1, result.returncode)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), result.stderr)
        self.assertIn('"mysql+mysqldb"', lines[0])
        self.assertIn('not installed', lines[0])

    def test_cache_commands_without_stream_endpoints_say_what_to_set(self):
        conf = os.path.join(self.servers.dir, 'no-stream.conf')
        base.write_conf(conf, {'DEFAULT': {'state_path': self.servers.state},
                               'database': {'connection': 'sqlite:///%s/glance.sqlite'
                                            % self.servers.dir}})
        for args in (['list'], ['prune'], ['queue', str(uuid.uuid4())],
                     ['evict', str(uuid.uuid4())]):
            result = manage('--config-file', conf, 'cache', *args)
            self.assertEqual(1, result.returncode, args)
            self.assertIn('[stream] endpoints', result.stdout, args)
            self.assertIn(conf, result.stdout, args)


class TestManageCacheQueue(base.FunctionalTest):
    """cache queue checks the image first; --wait gives up after --timeout."""

    shared_servers = True

    def create(self):
        resp = requests.post(self.servers.api_url + '/v2/images', headers=HEADERS,
                             json={'disk_format': 'raw', 'container_format': 'bare'})
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def active_image(self, data):
        image = self.create()
        resp = requests.put(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            data=data, headers=dict(HEADERS, **{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        return image

    def test_unknown_image_is_refused(self):
        for image_id in (str(uuid.uuid4()), 'not-a-uuid'):
            result = self.servers.manage('cache', 'queue', image_id, check=False)
            self.assertEqual(1, result.returncode, result.stdout)
            self.assertIn('No image %s' % image_id, result.stdout)
            self.assertNotIn('Queued', result.stdout)

    def test_image_without_data_is_refused(self):
        image = self.create()
        result = self.servers.manage('cache', 'queue', image['id'], check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('is queued: only active images can be cached', result.stdout)

    def test_queue_and_wait(self):
        image = self.active_image(os.urandom(256 * 1024))
        result = self.servers.manage('cache', 'queue', image['id'], '--wait',
                                     '--timeout', '60')
        self.assertIn('Queued %s' % image['id'], result.stdout)
        self.assertIn('cached', result.stdout)

    def test_wait_gives_up_after_the_timeout(self):
        image = self.active_image(os.urandom(64 * 1024))
        # the data is gone from the store: the node can never fill its cache
        for name in os.listdir(self.servers.store_dir):
            if name.startswith(image['id']):
                os.unlink(os.path.join(self.servers.store_dir, name))
        started = time.monotonic()
        result = self.servers.manage('cache', 'queue', image['id'], '--wait', '--timeout',
                                     '3', check=False)
        self.assertEqual(1, result.returncode, result.stdout + result.stderr)
        self.assertIn('Not cached after 3 s', result.stdout)
        self.assertLess(time.monotonic() - started, 60)
