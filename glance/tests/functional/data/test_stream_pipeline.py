"""glance-stream as a paste pipeline, verified to the byte, with real servers and files.

Piece maps recorded at upload; Range reads of a node without a cache (the cache filter
removed from a copy of the paste file) verified by pieces, so a corrupted stored object is
an error, never wrong bytes; cache faults (a deleted directory, a full filesystem, a
corrupted cached file, an eviction under a slow reader, a node answering 500) cost a
fallback or an honest report, never a download; background work once per host, whatever
the number of reloads, under eventlet's server and under uWSGI.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import blake3
import eventlet
import eventlet.wsgi
import requests

from glance.common import processes
from glance.common import stream_client as client
from glance.tests.functional import base
from glance.tests.functional.data import test_data_path

MiB = 1024 * 1024
PIECE = MiB


def _without_cache(text):
    return text.replace(' cache reader', ' reader')


class PipelineTest(test_data_path.DataTest):

    def setUp(self):
        super().setUp()
        from oslo_config import cfg
        from oslo_config import fixture as config_fixture
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(ticket_key=self.servers.ticket_key, group='stream')
        conf.config(endpoints=[self.servers.stream_url], group='stream')

    def db(self):
        return sqlite3.connect(os.path.join(self.servers.dir, 'glance.sqlite'))

    def stored_path(self, image_id):
        return os.path.join(self.servers.store_dir, image_id)

    def active_image(self, size):
        data = os.urandom(size)
        image = self.create()
        self.upload(image['id'], data)
        return image, data

    def corrupt_stored(self, image_id, offset):
        with open(self.stored_path(image_id), 'r+b') as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 0xFF]))


class TestNodeWithoutCache(PipelineTest):
    """The cache filter deleted from the paste file: a working node with no cache."""

    server_kwargs = {
        'common_conf': {'DEFAULT': {'piece_size': PIECE}},
        'stream_conf': {'cache': {'directory': ''}},
        'paste_edit': {'glance-stream-paste.ini': _without_cache},
    }

    def test_downloads_work_without_the_cache_filter(self):
        image, data = self.active_image(3 * MiB + 17)
        resp = self.download(image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(data, resp.content)
        self.assertNotIn('X-Image-Cache', resp.headers)
        ranged = self.download(image['id'], Range='bytes=1000-2000000')
        self.assertEqual(206, ranged.status_code)
        self.assertEqual(data[1000:2000001], ranged.content)

    def test_piece_map_recorded_at_upload(self):
        image, data = self.active_image(5 * MiB + 3)
        with self.db() as db:
            algo, piece_size, size, digests = db.execute(
                'SELECT algo, piece_size, image_size, digests FROM image_pieces '
                'WHERE image_id = ?', (image['id'],)).fetchone()
        self.assertEqual(('blake3', PIECE, len(data)), (algo, piece_size, size))
        expected = b''.join(blake3.blake3(data[i:i + PIECE]).digest()
                            for i in range(0, len(data), PIECE))
        self.assertEqual(expected, digests)

    def test_range_of_a_corrupted_object_is_an_error_never_wrong_bytes(self):
        image, data = self.active_image(4 * MiB)
        self.corrupt_stored(image['id'], 2 * MiB + 10)
        # a range inside the corrupted piece: refused before any byte
        resp = self.download(image['id'], Range='bytes=%d-%d' % (2 * MiB, 2 * MiB + 99))
        self.assertEqual(502, resp.status_code)
        # a range spanning a good piece and the bad one: cut, never a clean 206
        try:
            resp = self.download(image['id'], Range='bytes=%d-%d' % (MiB, 3 * MiB))
            received = resp.content
        except requests.exceptions.RequestException:
            received = None
        if received is not None:
            self.assertNotEqual(206 == resp.status_code and len(received) == 2 * MiB + 1,
                                True, 'a corrupted range came back as a clean 206')
        # a range in an intact piece is still served
        good = self.download(image['id'], Range='bytes=0-999')
        self.assertEqual(206, good.status_code)
        self.assertEqual(data[:1000], good.content)
        log = self.servers.stream.log()
        self.assertIn('piece 2', log)

    def test_image_without_a_piece_map_gets_one_on_its_first_range_read(self):
        image, data = self.active_image(3 * MiB)
        with self.db() as db:
            db.execute('DELETE FROM image_pieces WHERE image_id = ?', (image['id'],))
        resp = self.download(image['id'], Range='bytes=-100')
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[-100:], resp.content)
        with self.db() as db:
            row = db.execute('SELECT piece_size, length(digests) FROM image_pieces '
                             'WHERE image_id = ?', (image['id'],)).fetchone()
        self.assertEqual((PIECE, 3 * 32), row)

    def test_stream_port_refuses_requests_without_a_ticket(self):
        image, _ = self.active_image(MiB)
        resp = requests.get(self.servers.stream_url + '/v2/images/%s/file' % image['id'],
                            headers=self.headers())
        self.assertEqual(401, resp.status_code)


class CachedPipelineTest(PipelineTest):
    shared_servers = False
    server_kwargs = {
        'workers': 1,
        'common_conf': {'DEFAULT': {'piece_size': PIECE}},
        'stream_conf': {'cache': {'max_size': 64 * MiB, 'max_image_share': 0.5,
                                  'heal_interval': 1, 'min_free_space': 0}},
    }

    @property
    def cache_dir(self):
        return os.path.join(self.servers.state, 'cache')

    def metrics(self):
        status, body = client.call(self.servers.stream_url, 'GET', '/cache/metrics')
        self.assertEqual(200, status)
        return body


class TestCacheFaults(CachedPipelineTest):

    def assert_served_then_cached_again(self, image, data):
        """Downloads work while the cache is broken, and the cache heals by itself."""
        for _ in range(3):
            resp = self.download(image['id'])
            self.assertEqual(200, resp.status_code)
            self.assertEqual(data, resp.content)
        self.assertTrue(test_data_path.wait_for(lambda: self.download(image['id']).headers.get(
            'X-Image-Cache') == 'hit', timeout=20))

    def test_deleted_cache_directory_degrades_then_heals(self):
        image, data = self.active_image(2 * MiB)
        self.assertEqual(data, self.download(image['id']).content)
        self.wait_cached(image['id'], self.cache_dir)
        self.assertEqual('hit', self.download(image['id']).headers['X-Image-Cache'])
        subprocess.run(['rm', '-rf', self.cache_dir], check=True)
        self.assert_served_then_cached_again(image, data)
        self.assertTrue(os.path.isdir(os.path.join(self.cache_dir, 'data')))
        self.assertIn('degraded', self.servers.stream.log())

    def test_broken_index_degrades_then_is_rebuilt(self):
        image, data = self.active_image(2 * MiB)
        self.download(image['id'])
        self.wait_cached(image['id'], self.cache_dir)
        index = os.path.join(self.cache_dir, 'index.sqlite')
        for suffix in ('-wal', '-shm'):
            if os.path.exists(index + suffix):
                os.unlink(index + suffix)
        with open(index, 'wb') as f:
            f.write(b'this is not a database' * 100)
        self.assert_served_then_cached_again(image, data)
        self.assertIn('rebuilt empty', self.servers.stream.log())

    def test_corrupted_cached_file_is_caught_by_the_scrub(self):
        image, data = self.active_image(3 * MiB)
        self.download(image['id'])
        self.wait_cached(image['id'], self.cache_dir)
        self.assertEqual('hit', self.download(image['id']).headers['X-Image-Cache'])
        path = os.path.join(self.cache_dir, 'data', image['id'])
        with open(path, 'r+b') as f:
            f.seek(MiB + 5)
            f.write(b'\xff\x00\xff')
        result = self.servers.manage('cache', 'verify', check=False)
        self.assertEqual(1, result.returncode, result.stderr)  # corruption found
        self.assertIn(image['id'], result.stdout)
        self.assertFalse(os.path.exists(path))
        resp = self.download(image['id'])
        self.assertEqual(data, resp.content)
        self.assertNotEqual('hit', resp.headers['X-Image-Cache'])
        self.assertGreaterEqual(self.metrics()['verification_failures'], 1)

    def test_eviction_during_a_slow_download_does_not_cut_it(self):
        image, data = self.active_image(8 * MiB)
        self.download(image['id'])
        self.wait_cached(image['id'], self.cache_dir)
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                headers=self.headers(), stream=True)
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        received = resp.raw.read(MiB)
        status, _ = client.call(self.servers.stream_url, 'DELETE', '/cache/%s' % image['id'])
        self.assertEqual(204, status)
        self.assertFalse(os.path.exists(os.path.join(self.cache_dir, 'data', image['id'])))
        received += resp.raw.read()
        self.assertEqual(data, received)

    def test_node_answering_500_is_reported_by_get_cache(self):
        broken = _BrokenNode()
        self.addCleanup(broken.close)
        # an api server that knows the healthy node and the broken one
        servers = self.useFixture(base.ServerFixture(
            stream=False, api_conf={'stream': {'endpoints': '%s,%s' % (
                self.servers.stream_url, broken.url), 'ticket_key': self.servers.ticket_key}}))
        resp = requests.get(servers.api_url + '/v2/cache',
                            headers=self.headers(roles='admin,member,reader'))
        self.assertEqual(200, resp.status_code, resp.text)
        body = resp.json()
        self.assertIn(broken.url, body.get('failed_nodes', {}))
        self.assertEqual(500, body['failed_nodes'][broken.url]['status'])


class _BrokenNode:
    """A real HTTP server that answers 500 to everything."""

    def __init__(self):
        self.sock = eventlet.listen(('127.0.0.1', 0))
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                body = b'{"error": "boom"}'
                self.send_response(500)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            do_GET = do_PUT = do_DELETE = do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(('127.0.0.1', self.sock.getsockname()[1]),
                                            Handler, bind_and_activate=False)
        self.httpd.socket.close()
        self.httpd.socket = self.sock
        self.httpd.serve_forever(poll_interval=0.1)

    def close(self):
        httpd = getattr(self, 'httpd', None)
        if httpd is not None:
            httpd.shutdown()
        self.sock.close()


class TestFullCacheFilesystem(CachedPipelineTest):
    """The cache on a 3 MiB tmpfs the test mounts: smaller than max_size, and filled."""

    def setUp(self):
        self.mount = tempfile.mkdtemp(prefix='glance-tmpfs-')
        result = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=3m', 'tmpfs',
                                 self.mount], capture_output=True)
        if result.returncode != 0:
            self.skipTest('cannot mount a tmpfs here: %s' % result.stderr.decode().strip())
        self.addCleanup(subprocess.run, ['umount', '-l', self.mount])
        self.server_kwargs = dict(self.server_kwargs)
        self.server_kwargs['stream_conf'] = {'cache': dict(
            self.server_kwargs['stream_conf']['cache'], directory=self.mount,
            min_free_space=512 * 1024)}
        super().setUp()

    @property
    def cache_dir(self):
        return self.mount

    def test_full_disk_costs_a_fallback_never_a_download(self):
        images = [self.active_image(int(1.4 * MiB)) for _ in range(3)]
        results = {}

        def get(image):
            resp = self.download(image['id'])
            results[image['id']] = (resp.status_code, resp.content)

        threads = [threading.Thread(target=get, args=(image,)) for image, _ in images]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for image, data in images:
            self.assertEqual((200, data), results[image['id']])
        # again, one by one, while the disk is as full as it gets
        for image, data in images:
            resp = self.download(image['id'])
            self.assertEqual(200, resp.status_code)
            self.assertEqual(data, resp.content)
        health = requests.get(self.servers.stream_url + '/healthcheck',
                              headers={'Accept': 'application/json'})
        self.assertEqual(200, health.status_code)
        self.assertIn('cache:', health.text)

    def test_image_larger_than_the_free_space_is_not_cached(self):
        image, data = self.active_image(int(2.9 * MiB))  # under max_size, over the disk
        resp = self.download(image['id'])
        self.assertEqual(data, resp.content)
        self.assertEqual('bypass', resp.headers['X-Image-Cache'])
        self.assertEqual([], os.listdir(os.path.join(self.mount, 'data')))


class TestBackgroundWorkOncePerHost(test_data_path.DataTest):
    shared_servers = False
    server_kwargs = {'workers': 2}

    def _runners(self, server, service):
        return [int(pid) for pid in re.findall(
            r'Background work of %s runs in process (\d+)' % service, server.log())]

    def test_sighup_three_times_leaves_one_set_of_loops(self):
        for server, service in ((self.servers.stream, 'glance-stream'),
                                (self.servers.api, 'glance-api')):
            self.assertTrue(test_data_path.wait_for(lambda: self._runners(server, service), 20))
            for _ in range(3):
                os.kill(server.proc.pid, signal.SIGHUP)
                time.sleep(1.5)

            def settled():
                runners = self._runners(server, service)
                alive = [pid for pid in runners if processes.pid_alive(pid)]
                return len(alive) == 1 and len(runners) >= 2
            self.assertTrue(test_data_path.wait_for(settled, 60), self._runners(server, service))
            runners = self._runners(server, service)
            self.assertNotIn(server.proc.pid, runners)  # never the supervisor parent
            self.assertEqual(1, len([pid for pid in runners if processes.pid_alive(pid)]))


class TestPrefetchUnderUwsgi(PipelineTest):
    shared_servers = False
    server_kwargs = {'stream': False}

    def test_queued_image_is_prefetched_by_a_uwsgi_node(self):
        uwsgi = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
        if not os.path.exists(uwsgi):
            self.skipTest('uWSGI is not installed (pyuwsgi is in test-requirements.txt)')
        image, data = self.active_image(2 * MiB)
        port = self.servers.stream_port
        ini = os.path.join(self.servers.dir, 'stream-uwsgi.ini')
        with open(os.path.join(base.ETC, 'glance-stream-uwsgi.ini.sample')) as f:
            text = f.read()
        text = text.replace('127.0.0.1:9293', '127.0.0.1:%d' % port).replace(
            '/etc/glance/glance-stream.conf', self.servers.stream_conf_path)
        with open(ini, 'w') as f:
            f.write(text + '\nchdir = %s\n' % base.ROOT)
        log = open(os.path.join(self.servers.dir, 'stream-uwsgi.log'), 'wb')
        proc = subprocess.Popen([uwsgi, '--ini', ini], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.addCleanup(lambda: (os.killpg(proc.pid, signal.SIGKILL), proc.wait(10)))
        base.wait_http('http://127.0.0.1:%d/healthcheck' % port, 60, proc)
        status, _ = client.call(self.servers.stream_url, 'PUT', '/cache/%s' % image['id'])
        self.assertEqual(202, status)

        def cached():
            status, body = client.call(self.servers.stream_url, 'GET',
                                       '/cache/%s' % image['id'])
            return status == 200 and body['state'] == 'cached'
        self.assertTrue(test_data_path.wait_for(cached, 60), open(log.name).read()[-3000:])
        resp = self.download(image['id'])
        self.assertEqual(data, resp.content)
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
