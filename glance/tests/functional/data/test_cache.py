"""glance-stream's cache with real servers: one backend read for a herd, a bound on disk,
restarts, corruption, and eviction from every node on delete and deactivate.

Backend reads are counted at the backend: for the herd, the image's location points at a
real HTTP server (glance_store's http store) that counts the GET requests it answers.
(inotify on the file store would not do: it merges identical successive events, so 50 opens
of one file can read as one.)
"""

import os
import signal
import sqlite3
import time
import uuid

import eventlet
import eventlet.wsgi
import requests

from glance.common import stream_client as client
from glance.common import ticket
from glance.tests.functional import base
from glance.tests.functional.data import test_data_path


class CountingBackend:
    """A real HTTP server holding image bytes, counting the GETs it answers."""

    def __init__(self, data):
        self.data = data
        self.gets = 0
        self.sock = eventlet.listen(('127.0.0.1', 0))
        self.url = 'http://127.0.0.1:%d/image' % self.sock.getsockname()[1]
        self.thread = eventlet.spawn(eventlet.wsgi.server, self.sock, self.app,
                                     log_output=False)

    def app(self, environ, start_response):
        if environ['REQUEST_METHOD'] == 'GET':
            self.gets += 1
        start_response('200 OK', [('Content-Type', 'application/octet-stream'),
                                  ('Content-Length', str(len(self.data)))])
        return [] if environ['REQUEST_METHOD'] == 'HEAD' else [self.data]

    def close(self):
        self.thread.kill()
        self.sock.close()


class CacheTest(test_data_path.DataTest):

    max_size = 8 * 1024 * 1024

    @classmethod
    def setUpClass(cls):
        cls.server_kwargs = {
            'workers': 2,
            'common_conf': {'DEFAULT': {'enabled_backends': 'local:file,web:http'}},
            'stream_conf': {'cache': {'max_size': cls.max_size, 'max_image_share': 0.5,
                                      'metrics_log_interval': 1}}}
        super().setUpClass()

    def setUp(self):
        super().setUp()
        from oslo_config import cfg
        from oslo_config import fixture as config_fixture
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(ticket_key=self.servers.ticket_key, group='stream')
        conf.config(endpoints=[self.servers.stream_url], group='stream')

    @property
    def cache_dir(self):
        return os.path.join(self.servers.state, 'cache')

    def active_image(self, size=3 * 1024 * 1024):
        data = os.urandom(size)
        image = self.create()
        self.upload(image['id'], data)
        return image, data

    def cache_listing(self):
        status, body = client.call(self.servers.stream_url, 'GET', '/cache')
        self.assertEqual(200, status)
        return body


class TestHerd(CacheTest):

    def test_fifty_cold_downloads_one_backend_read(self):
        image, data = self.active_image(6 * 1024 * 1024 // 2)
        backend = CountingBackend(data)
        self.addCleanup(backend.close)
        # the image's data now lives on the counting server (same bytes, same hashes)
        with sqlite3.connect(os.path.join(self.servers.dir, 'glance.sqlite')) as db:
            db.execute('UPDATE image_locations SET value = ?, meta_data = ? '
                       'WHERE image_id = ?', (backend.url, '{"store": "web"}', image['id']))
        results = []

        def download():
            try:
                resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                    headers=self.headers(), timeout=20)
                results.append((resp.status_code, resp.headers.get('X-Image-Cache'),
                                resp.content == data))
            except Exception as e:
                results.append((repr(e), None, False))

        pool = eventlet.GreenPool(50)
        for _ in range(50):
            pool.spawn(download)
        pool.waitall()
        self.assertEqual(50, len(results))
        self.assertEqual({(200, True)}, {(status, same) for status, _, same in results})
        self.assertEqual(1, backend.gets, 'the backend was read more than once')
        sources = [source for _, source, _ in results]
        self.assertEqual(1, sources.count('fill'))
        # and the next one is a hit
        self.wait_cached(image['id'])
        resp = self.download(image['id'])
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        self.assertEqual(data, resp.content)
        self.assertEqual(1, backend.gets)
        # the counters reach the log too (logged every second, when they changed)
        deadline = time.monotonic() + 10
        line = None
        while line is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with open(self.servers.stream.log_path) as f:
                lines = [ln for ln in f if 'Cache metrics: hits=' in ln
                         and 'Cache metrics: hits=0 ' not in ln]
            line = lines[-1] if lines else None
        self.assertIsNotNone(line, 'no cache metrics with the hit in the log')
        self.assertRegex(line, r'followers=\d+ fills=1 ')
        self.assertIn(' bytes_from_backend=%d ' % len(data), line)


class TestBound(CacheTest):

    def test_disk_never_exceeds_max_size(self):
        images = [self.active_image(2 * 1024 * 1024) for _ in range(7)]

        def usage():
            total = 0
            for sub in ('data', 'incomplete'):
                path = os.path.join(self.cache_dir, sub)
                for name in os.listdir(path):
                    try:
                        total += os.path.getsize(os.path.join(path, name))
                    except FileNotFoundError:
                        pass
            return total

        peak = 0
        for image, data in images + images[:2]:
            resp = self.session.get(self.servers.api_url + '/v2/images/%s/file'
                                    % image['id'], headers=self.headers(), stream=True)
            received = b''
            for chunk in resp.iter_content(256 * 1024):
                received += chunk
                peak = max(peak, usage())
            self.assertEqual(data, received)
        self.assertLessEqual(peak, self.max_size)
        self.assertLessEqual(len(self.cache_listing()['cached_images']), 4)

    def test_image_too_big_for_its_share_is_streamed_not_cached(self):
        image, data = self.active_image(5 * 1024 * 1024)
        resp = self.download(image['id'])
        self.assertEqual('bypass', resp.headers['X-Image-Cache'])
        self.assertEqual(data, resp.content)


class TestCorruptAndRestart(CacheTest):

    def test_corrupt_backend_object_is_never_cached(self):
        image, data = self.active_image(2 * 1024 * 1024)
        with open(os.path.join(self.servers.store_dir, image['id']), 'r+b') as f:
            f.seek(1024 * 1024)
            f.write(b'\xff' * 8)
        try:
            # the corrupt piece is the first: refused before any byte is sent
            self.assertEqual(502, self.download(image['id']).status_code)
        except requests.exceptions.RequestException:
            pass  # or cut, had some bytes been sent: never a clean 200
        listing = self.cache_listing()
        self.assertNotIn(image['id'], [e['image_id'] for e in listing['cached_images']])
        self.assertNotIn(image['id'], os.listdir(os.path.join(self.cache_dir, 'data')))

    def test_restart_keeps_committed_and_drops_partial(self):
        image, data = self.active_image(1024 * 1024)
        self.assertEqual(data, self.download(image['id']).content)
        self.wait_cached(image['id'])
        partial = os.path.join(self.cache_dir, 'incomplete', str(uuid.uuid4()))
        with open(partial, 'wb') as f:
            f.write(b'partial')
        self.servers.stream.stop(signal.SIGTERM)
        self.servers.stream.start()
        # the clean-up is the node's background work, started after the fork
        deadline = time.monotonic() + 20
        while os.path.exists(partial) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertFalse(os.path.exists(partial))
        resp = self.download(image['id'])
        self.assertEqual('hit', resp.headers['X-Image-Cache'])
        self.assertEqual(data, resp.content)


class TestEveryNodeEvicts(test_data_path.DataTest):
    """Two stream nodes: delete and deactivate evict the image from both."""

    shared_servers = False

    def setUp(self):
        second_port = base.free_port()
        self.second_url = 'http://127.0.0.1:%d' % second_port
        # housekeeping retries missed evictions; make its period short for the test
        self.server_kwargs = {'stream_conf': {'cache': {'max_size': 64 * 1024 * 1024}},
                              'api_conf': {'DEFAULT': {'housekeeping_interval': 2,
                                                       'upload_heartbeat_interval': 1}}}
        super().setUp()
        # glance-api learns about both nodes; the second node shares store and database.
        conf_path = os.path.join(self.servers.dir, 'glance-stream-2.conf')
        with open(self.servers.stream_conf_path) as f:
            text = f.read()
        text = text.replace('bind_port = %d' % self.servers.stream_port,
                            'bind_port = %d' % second_port)
        text += '\n[cache]\ndirectory = %s\n' % os.path.join(self.servers.dir, 'cache2')
        with open(conf_path, 'w') as f:
            f.write(text)
        self.second = base.Server('glance-stream-2', 'glance.cmd.stream', conf_path,
                                  second_port, os.path.join(self.servers.dir, 'second.log'))
        self.second.start()
        self.addCleanup(self.second.stop)
        with open(self.servers.api_conf_path, 'a') as f:
            f.write('\n[stream]\nendpoints = %s,%s\n' % (self.servers.stream_url,
                                                         self.second_url))
        self.servers.api.stop()
        self.servers.api.start()
        from oslo_config import cfg
        from oslo_config import fixture as config_fixture
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(ticket_key=self.servers.ticket_key, group='stream')

    def _warm_both(self, image_id):
        for url in (self.servers.stream_url, self.second_url):
            token = ticket.sign(image_id, self.project)
            resp = requests.get('%s/v2/images/%s/file?ticket=%s' % (url, image_id, token))
            self.assertEqual(200, resp.status_code)
            # the fill commits (sync, rename) just after the client has every byte
            self.assertTrue(test_data_path.wait_for(lambda: image_id in [
                e['image_id'] for e in client.call(url, 'GET', '/cache')[1]['cached_images']],
                20))

    def _cached_on(self, image_id):
        nodes = []
        for url in (self.servers.stream_url, self.second_url):
            _, body = client.call(url, 'GET', '/cache')
            if image_id in [e['image_id'] for e in body['cached_images']]:
                nodes.append(url)
        return nodes

    def test_delete_and_deactivate_evict_everywhere(self):
        for action in ('deactivate', 'delete'):
            data = os.urandom(512 * 1024)
            image = self.create()
            self.upload(image['id'], data)
            self._warm_both(image['id'])
            self.assertEqual(2, len(self._cached_on(image['id'])))
            if action == 'delete':
                resp = self.session.delete(self.servers.api_url + '/v2/images/%s'
                                           % image['id'], headers=self.headers())
            else:
                resp = self.session.post(self.servers.api_url + '/v2/images/%s/actions/'
                                         'deactivate' % image['id'], headers=self.headers())
            self.assertEqual(204, resp.status_code)
            self.assertEqual([], self._cached_on(image['id']), action)

    def test_an_unreachable_node_is_evicted_later(self):
        data = os.urandom(256 * 1024)
        image = self.create()
        self.upload(image['id'], data)
        self._warm_both(image['id'])
        self.second.stop()
        resp = self.session.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                                   headers=self.headers())
        self.assertEqual(204, resp.status_code)
        self.assertEqual([], self._cached_on_first(image['id']))
        self.second.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.second_has(image['id']):
            time.sleep(0.5)
        self.assertFalse(self.second_has(image['id']))

    def _cached_on_first(self, image_id):
        _, body = client.call(self.servers.stream_url, 'GET', '/cache')
        return [e for e in body['cached_images'] if e['image_id'] == image_id]

    def second_has(self, image_id):
        _, body = client.call(self.second_url, 'GET', '/cache')
        return image_id in [e['image_id'] for e in body['cached_images']]
