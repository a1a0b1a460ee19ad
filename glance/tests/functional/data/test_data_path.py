"""Image bytes in through glance-api and out through glance-stream, with real servers."""

import hashlib
import os
import signal
import time
import uuid

import requests

from glance.common import ticket
from glance.tests.functional import base


def _rss_kib(pid):
    """Resident memory of a process and its children, in KiB."""
    total = 0
    pids = [str(pid)]
    children = os.popen('pgrep -P %d' % pid).read().split()
    for p in pids + children:
        try:
            with open('/proc/%s/status' % p) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_for(predicate, timeout=30, interval=0.2):
    """True once ``predicate()`` is, False if it is not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class DataTest(base.FunctionalTest):

    shared_servers = True

    def setUp(self):
        super().setUp()
        self.session = requests.Session()
        self.project = 'p-' + uuid.uuid4().hex[:8]

    def headers(self, project=None, roles='member,reader', **extra):
        headers = {'X-Project-Id': project or self.project, 'X-Roles': roles}
        headers.update(extra)
        return headers

    def create(self, project=None, **body):
        body.setdefault('disk_format', 'raw')
        body.setdefault('container_format', 'bare')
        resp = self.session.post(self.servers.api_url + '/v2/images', json=body,
                                 headers=self.headers(project))
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()

    def upload(self, image_id, data, expect=204, project=None, **headers):
        resp = self.session.put(self.servers.api_url + '/v2/images/%s/file' % image_id,
                                data=data, headers=self.headers(
                                    project, **{'Content-Type': 'application/octet-stream'},
                                    **headers))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def show(self, image_id, project=None):
        return self.session.get(self.servers.api_url + '/v2/images/%s' % image_id,
                                headers=self.headers(project)).json()

    def download(self, image_id, project=None, roles='member,reader', **headers):
        return self.session.get(self.servers.api_url + '/v2/images/%s/file' % image_id,
                                headers=self.headers(project, roles, **headers))

    def wait_cached(self, image_id, cache_dir=None):
        """Wait until the stream node committed the image to its cache.

        A reader of an image with a piece map gets every byte before the fill has synced
        and renamed its file: the next request may still follow the fill.
        """
        cache_dir = cache_dir or os.path.join(self.servers.state, 'cache')
        path = os.path.join(cache_dir, 'data', image_id)
        self.assertTrue(wait_for(lambda: os.path.exists(path), 30), 'never cached')

    def stream_url(self, image_id, token):
        return '%s/v2/images/%s/file?ticket=%s' % (self.servers.stream_url, image_id, token)


class TestUploadDownload(DataTest):

    def test_round_trip_with_checksums(self):
        data = os.urandom(5 * 1024 * 1024 + 3)
        image = self.create()
        self.upload(image['id'], data)
        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(len(data), shown['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual('sha512', shown['os_hash_algo'])
        self.assertEqual(hashlib.sha512(data).hexdigest(), shown['os_hash_value'])

        resp = self.download(image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(data, resp.content)
        self.assertEqual(1, len(resp.history))
        self.assertEqual(302, resp.history[0].status_code)
        self.assertTrue(resp.url.startswith(self.servers.stream_url))
        self.assertEqual(shown['checksum'], resp.headers['Content-MD5'])
        self.assertEqual('"%s"' % shown['os_hash_value'], resp.headers['ETag'])
        self.assertEqual(str(len(data)), resp.headers['Content-Length'])

    def test_chunked_upload(self):
        data = os.urandom(3 * 1024 * 1024)
        image = self.create()
        self.upload(image['id'], (data[i:i + 65536] for i in range(0, len(data), 65536)))
        self.assertEqual(len(data), self.show(image['id'])['size'])
        self.assertEqual(data, self.download(image['id']).content)

    def test_no_data_is_204_and_second_upload_409(self):
        image = self.create()
        self.assertEqual(204, self.download(image['id']).status_code)
        self.upload(image['id'], b'abc')
        self.upload(image['id'], b'abc', expect=409)

    def test_upload_needs_formats_and_a_visible_image(self):
        resp = self.session.post(self.servers.api_url + '/v2/images', json={},
                                 headers=self.headers())
        self.upload(resp.json()['id'], b'abc', expect=400)
        image = self.create(visibility='private')
        self.upload(image['id'], b'abc', expect=404, project='intruder')
        resp = self.session.put(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                data=b'abc', headers=self.headers(roles='reader'))
        self.assertEqual(403, resp.status_code)
        self.assertEqual('queued', self.show(image['id'])['status'])

    def test_deactivated_image_is_403_except_to_admins(self):
        image = self.create()
        self.upload(image['id'], b'x' * 1000)
        resp = self.session.post(self.servers.api_url + '/v2/images/%s/actions/deactivate'
                                 % image['id'], headers=self.headers())
        self.assertEqual(204, resp.status_code)
        self.assertEqual(403, self.download(image['id']).status_code)
        self.assertEqual(200, self.download(image['id'], roles='admin').status_code)

    def test_delete_removes_the_data(self):
        image = self.create()
        self.upload(image['id'], b'y' * 1000)
        files = os.listdir(self.servers.store_dir)
        self.assertIn(image['id'], files)
        self.session.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                            headers=self.headers())
        self.assertNotIn(image['id'], os.listdir(self.servers.store_dir))

    def test_stores_info(self):
        resp = self.session.get(self.servers.api_url + '/v2/info/stores',
                                headers=self.headers())
        self.assertEqual({'stores': [{'id': 'local', 'default': True}]}, resp.json())
        image = self.create()
        self.upload(image['id'], b'z', expect=400, **{'X-Image-Meta-Store': 'nonesuch'})


class TestTicketsAndRanges(DataTest):

    def setUp(self):
        super().setUp()
        self.data = os.urandom(1024 * 1024 + 77)
        self.image = self.create(visibility='private')
        self.upload(self.image['id'], self.data)
        self.useFixture_key()

    def useFixture_key(self):
        from oslo_config import cfg
        from oslo_config import fixture as config_fixture
        conf = self.useFixture(config_fixture.Config(cfg.CONF))
        conf.config(ticket_key=self.servers.ticket_key, group='stream')

    def ranged(self, header, token=None):
        token = token or ticket.sign(self.image['id'], self.project)
        return requests.get(self.stream_url(self.image['id'], token),
                            headers={'Range': header} if header else {})

    def test_bad_tickets(self):
        image_id = self.image['id']
        good = ticket.sign(image_id, self.project)
        payload, sig = good.split('.')
        tampered = payload + '.' + sig[:-1] + ('A' if sig[-1] != 'A' else 'B')
        expired = ticket.sign(image_id, self.project, now=time.time() - 120)
        other_image = ticket.sign(str(uuid.uuid4()), self.project)
        for token, status in ((tampered, 401), (expired, 401), (other_image, 401),
                              ('nonsense', 401)):
            resp = requests.get(self.stream_url(image_id, token))
            self.assertEqual(status, resp.status_code, token)
            self.assertNotIn(self.servers.store_dir, resp.text)
        other_project = ticket.sign(image_id, 'intruder')
        self.assertEqual(403, requests.get(self.stream_url(image_id, other_project))
                         .status_code)
        self.assertEqual(200, requests.get(self.stream_url(image_id, good)).status_code)
        resp = requests.put(self.stream_url(image_id, good), data=b'x')
        self.assertIn(resp.status_code, (403, 405))

    def test_ranges(self):
        size = len(self.data)
        cases = [('bytes=0-0', 206, self.data[0:1]),
                 ('bytes=10-19', 206, self.data[10:20]),
                 ('bytes=%d-' % (size - 5), 206, self.data[-5:]),
                 ('bytes=-7', 206, self.data[-7:]),
                 ('bytes=1000-%d' % (size * 2), 206, self.data[1000:]),
                 ('bytes=0-1,5-6', 200, self.data),
                 # RFC 9110: an invalid range (last < first) or a malformed header is
                 # ignored, and so is a range whose If-Range validator is not ours
                 ('bytes=5-4', 200, self.data),
                 ('items=0-5', 200, self.data),
                 (None, 200, self.data)]
        for header, status, body in cases:
            resp = self.ranged(header)
            self.assertEqual(status, resp.status_code, header)
            self.assertEqual(body, resp.content, header)
            if status == 206:
                self.assertTrue(resp.headers['Content-Range'].endswith('/%d' % size))
        for header in ('bytes=%d-' % size, 'bytes=-0'):
            resp = self.ranged(header)
            self.assertEqual(416, resp.status_code, header)
            self.assertEqual('bytes */%d' % size, resp.headers['Content-Range'])

    def test_if_range(self):
        etag = self.ranged(None).headers['ETag'].strip('"')
        url = self.servers.api_url + '/v2/images/%s/file' % self.image['id']
        matching = self.session.get(url, headers=self.headers(
            Range='bytes=10-19', **{'If-Range': '"%s"' % etag}))
        self.assertEqual(206, matching.status_code)
        self.assertEqual(self.data[10:20], matching.content)
        for validator in ('"not-the-etag"', 'W/"%s"' % etag, 'Wed, 21 Oct 2015 07:28:00 GMT'):
            other = self.session.get(url, headers=self.headers(
                Range='bytes=10-19', **{'If-Range': validator}))
            self.assertEqual(200, other.status_code, validator)
            self.assertEqual(self.data, other.content)

    def test_range_through_the_redirect(self):
        resp = self.download(self.image['id'], Range='bytes=100-199')
        self.assertEqual(206, resp.status_code)
        self.assertEqual(self.data[100:200], resp.content)


class TestCorruption(DataTest):

    def test_corrupt_object_aborts_the_transfer(self):
        # 12 MiB: the first 8 MiB piece is intact and sent, the second is corrupt
        data = os.urandom(12 * 1024 * 1024)
        image = self.create()
        self.upload(image['id'], data)
        path = os.path.join(self.servers.store_dir, image['id'])
        with open(path, 'r+b') as f:
            f.seek(10 * 1024 * 1024)
            f.write(b'\0' * 16)
        received = b''
        with self.assertRaises(requests.exceptions.RequestException):
            resp = self.session.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                    headers=self.headers(), stream=True)
            self.assertEqual(200, resp.status_code)
            for chunk in resp.iter_content(1024 * 1024):
                received += chunk
        self.assertEqual(data[:len(received)], received)  # what came was right...
        self.assertLessEqual(len(received), 8 * 1024 * 1024)  # ...and stopped before the bad piece

    def test_corrupt_first_piece_is_refused_before_any_byte(self):
        data = os.urandom(4 * 1024 * 1024)
        image = self.create()
        self.upload(image['id'], data)
        with open(os.path.join(self.servers.store_dir, image['id']), 'r+b') as f:
            f.seek(3 * 1024 * 1024)
            f.write(b'\0' * 16)
        resp = self.download(image['id'])
        self.assertEqual(502, resp.status_code)
        self.assertNotIn(data[:1024], resp.content)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if 'Image %s data is corrupt' % image['id'] in self.servers.stream.log():
                break
            time.sleep(0.2)
        self.assertIn('Image %s data is corrupt' % image['id'], self.servers.stream.log())


class TestProxyMode(DataTest):

    server_kwargs = {'stream': False, 'api_conf': {'stream': {'download_mode': 'proxy'}}}

    def test_glance_api_streams_itself(self):
        data = os.urandom(2 * 1024 * 1024 + 1)
        image = self.create()
        self.upload(image['id'], data)
        resp = self.download(image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual([], resp.history)
        self.assertEqual(data, resp.content)
        resp = self.download(image['id'], Range='bytes=5-9')
        self.assertEqual(data[5:10], resp.content)


class TestLimits(DataTest):

    server_kwargs = {'stream': False, 'api_conf': {'DEFAULT': {
        'image_size_cap': 1024 * 1024, 'user_storage_quota': 3 * 1024 * 1024}}}

    def test_size_cap(self):
        image = self.create()
        self.upload(image['id'], b'x' * (1024 * 1024 + 1), expect=413)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertNotIn(image['id'], os.listdir(self.servers.store_dir))
        chunks = (b'x' * 65536 for _ in range(20))
        self.upload(image['id'], chunks, expect=413)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertNotIn(image['id'], os.listdir(self.servers.store_dir))

    def test_storage_quota(self):
        for _ in range(3):
            self.upload(self.create()['id'], b'q' * (1000 * 1024))
        image = self.create()
        resp = self.upload(image['id'], b'q' * (1000 * 1024), expect=413)
        self.assertIn('remaining', resp.text)


class TestBigSparseImage(DataTest):
    """A 2 GiB image streams in and out without the servers' memory growing."""

    def test_sparse_round_trip(self):
        size = 2 * 1024 ** 3
        path = os.path.join(self.servers.dir, 'sparse.raw')
        with open(path, 'wb') as f:
            f.truncate(size)
            f.seek(size // 2)
            f.write(b'middle')
        image = self.create()
        api_pid, stream_pid = self.servers.api.proc.pid, self.servers.stream.proc.pid
        api_before, stream_before = _rss_kib(api_pid), _rss_kib(stream_pid)
        with open(path, 'rb') as f:
            self.upload(image['id'], f)
        shown = self.show(image['id'])
        self.assertEqual(size, shown['size'])
        digest = hashlib.sha512()
        received = 0
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                headers=self.headers(), stream=True)
        for chunk in resp.iter_content(1024 * 1024):
            digest.update(chunk)
            received += len(chunk)
        self.assertEqual(size, received)
        self.assertEqual(shown['os_hash_value'], digest.hexdigest())
        # Both server trees stay within 100 MiB of where they started.
        self.assertLess(_rss_kib(api_pid) - api_before, 100 * 1024)
        self.assertLess(_rss_kib(stream_pid) - stream_before, 100 * 1024)


class TestUploadRecovery(DataTest):
    """glance-api killed mid-upload: the restarted server puts the image back to queued."""

    server_kwargs = {'stream': False,
                     'api_conf': {'DEFAULT': {'housekeeping_interval': 1}}}
    shared_servers = False

    def _wait_status(self, image_id, status, timeout=30):
        import eventlet
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.show(image_id)['status']
            if current == status:
                return current
            eventlet.sleep(0.1)
        return current

    def test_killed_mid_upload(self):
        image = self.create()
        import threading
        sent = threading.Event()

        def slow_body():
            for _ in range(8):
                yield b's' * 1024 * 1024
            sent.set()
            time.sleep(30)  # the server dies while waiting for the rest
            yield b's'

        def send():
            try:
                self.session.put(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                 data=slow_body(), headers=self.headers(
                                     **{'Content-Type': 'application/octet-stream'}),
                                 timeout=60)
            except requests.RequestException:
                pass

        import eventlet
        sender = eventlet.spawn(send)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not sent.is_set():
            eventlet.sleep(0.1)
        self.assertEqual('saving', self._wait_status(image['id'], 'saving'))
        self.assertIn(image['id'], os.listdir(self.servers.store_dir))
        self.servers.api.stop(signal.SIGKILL)
        sender.kill()
        self.servers.api.start()
        # Recovered at start, or by the next sweep if the killed worker was still exiting.
        self.assertEqual('queued', self._wait_status(image['id'], 'queued'))
        self.assertNotIn(image['id'], os.listdir(self.servers.store_dir))
        self.upload(image['id'], b'again')
        self.assertEqual('active', self.show(image['id'])['status'])
