"""Faults injected into real processes: nothing lost or corrupted, and recovery without help.

* glance-stream killed (SIGKILL) in the middle of a download that fills its cache: the client
  sees a cut transfer, the restarted node drops the partial fill and serves the image whole.
* A backend (a real HTTP server holding the image) killed mid-transfer: the client sees an
  error or a cut, never wrong bytes as a clean 200; once the backend is back, downloads work
  without restarting anything.
* The database (a PostgreSQL cluster of the test's own) stopped and started again: glance-api
  and glance-stream answer 503 promptly while it is down, and recover by themselves.
(glance-api killed mid-upload: glance.tests.functional.data.test_data_path.TestUploadRecovery;
a full store: test_upload_faults; a full cache disk: test_stream_pipeline.)
"""

import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import requests

from glance.tests.functional import base
from glance.tests.functional.data import test_data_path

MiB = 1024 * 1024

_SLOW_SERVER = r'''
import http.server, sys, time
data = open(sys.argv[2], 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        for i in range(0, len(data), 256 * 1024):
            self.wfile.write(data[i:i + 256 * 1024])
            self.wfile.flush()
            time.sleep(float(sys.argv[3]))
    def do_HEAD(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
'''


class TestStreamKilledMidFill(test_data_path.DataTest):
    shared_servers = False
    server_kwargs = {'common_conf': {'DEFAULT': {'piece_size': MiB}}}

    def test_restarted_node_serves_the_image_whole(self):
        data = os.urandom(24 * MiB)
        image = self.create()
        self.upload(image['id'], data)
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                headers=self.headers(), stream=True)
        received = resp.raw.read(2 * MiB)
        self.servers.stream.stop(signal.SIGKILL)
        try:
            received += resp.raw.read()
        except Exception:
            pass
        self.assertLess(len(received), len(data))
        self.assertEqual(data[:len(received)], received)  # what came was right
        self.servers.stream.start()
        cache = os.path.join(self.servers.state, 'cache')
        incomplete = os.path.join(cache, 'incomplete')
        self.assertTrue(test_data_path.wait_for(lambda: not os.listdir(incomplete), 20))
        resp = self.download(image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(data, resp.content)
        self.wait_cached(image['id'])
        self.assertEqual('hit', self.download(image['id']).headers['X-Image-Cache'])


class TestBackendDiesMidStream(test_data_path.DataTest):
    shared_servers = False
    server_kwargs = {'common_conf': {'DEFAULT': {'enabled_backends': 'local:file,web:http',
                                                 'piece_size': MiB}}}

    def start_backend(self, path, port, delay):
        proc = subprocess.Popen([sys.executable, '-c', _SLOW_SERVER, str(port), path,
                                 str(delay)])
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))

        def up():
            with socket.socket() as sock:
                return sock.connect_ex(('127.0.0.1', port)) == 0
        self.assertTrue(test_data_path.wait_for(up, 10))
        return proc

    def test_cut_never_wrong_and_recovers_when_the_backend_returns(self):
        data = os.urandom(12 * MiB)
        image = self.create()
        self.upload(image['id'], data)
        path = os.path.join(self.servers.dir, 'web-image')
        with open(path, 'wb') as f:
            f.write(data)
        port = base.free_port()
        url = 'http://127.0.0.1:%d/image' % port
        with sqlite3.connect(os.path.join(self.servers.dir, 'glance.sqlite')) as db:
            db.execute('UPDATE image_locations SET value = ?, meta_data = ? '
                       'WHERE image_id = ?', (url, '{"store": "web"}', image['id']))
        backend = self.start_backend(path, port, delay=0.05)
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                                headers=self.headers(), stream=True, timeout=60)
        received = b''
        try:
            received += resp.raw.read(MiB)
            backend.kill()
            backend.wait()
            received += resp.raw.read()
            clean_200 = resp.status_code == 200 and len(received) == len(data)
        except Exception:
            clean_200 = False
        self.assertFalse(clean_200 and received != data, 'wrong bytes as a clean 200')
        self.assertLess(len(received), len(data))
        self.assertEqual(data[:len(received)], received)
        # the node is still healthy and serves the image once the backend is back
        self.assertEqual(200, requests.get(self.servers.stream_url + '/healthcheck').status_code)
        self.start_backend(path, port, delay=0)
        resp = self.download(image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(hashlib.sha512(data).hexdigest(),
                         hashlib.sha512(resp.content).hexdigest())


class _PostgresCluster:
    """A PostgreSQL cluster of the test's own, in a temporary directory, on a free port."""

    def __init__(self):
        bins = sorted(d for d in os.listdir('/usr/lib/postgresql') if d.isdigit()) \
            if os.path.isdir('/usr/lib/postgresql') else []
        if not bins:
            raise RuntimeError('no PostgreSQL server binaries under /usr/lib/postgresql')
        self.bin = '/usr/lib/postgresql/%s/bin' % bins[-1]
        self.dir = tempfile.mkdtemp(prefix='glance-pg-')
        self.port = base.free_port()
        shutil.chown(self.dir, 'postgres', 'postgres')
        self._run('initdb', '-D', self.dir + '/data', '-A', 'trust', '-U', 'postgres')
        self.start()
        subprocess.run(['psql', '-h', '127.0.0.1', '-p', str(self.port), '-U', 'postgres',
                        '-c', 'CREATE DATABASE glance'], check=True, capture_output=True)

    def _run(self, tool, *args):
        return subprocess.run(['runuser', '-u', 'postgres', '--', os.path.join(self.bin, tool)]
                              + list(args), check=True, capture_output=True, cwd=self.dir)

    @property
    def url(self):
        return 'postgresql+psycopg2://postgres@127.0.0.1:%d/glance' % self.port

    def start(self):
        self._run('pg_ctl', '-D', self.dir + '/data', '-w', '-l', self.dir + '/log', '-o',
                  '-p %d -k %s -c listen_addresses=127.0.0.1' % (self.port, self.dir), 'start')

    def stop(self):
        self._run('pg_ctl', '-D', self.dir + '/data', '-m', 'immediate', '-w', 'stop')

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, True)


class TestDatabaseGoesAway(test_data_path.DataTest):
    shared_servers = False

    def setUp(self):
        try:
            self.pg = _PostgresCluster()
        except (RuntimeError, OSError, subprocess.CalledProcessError, LookupError) as e:
            self.skipTest('cannot run a PostgreSQL cluster here: %s' % e)
        self.addCleanup(self.pg.destroy)
        self.server_kwargs = {'connection': self.pg.url}
        super().setUp()

    def test_503_while_down_and_recovery_without_restart(self):
        data = os.urandom(3 * MiB)
        image = self.create()
        self.upload(image['id'], data)
        self.pg.stop()
        for url in ('/v2/images', '/v2/images/%s' % image['id'],
                    '/v2/images/%s/file' % image['id']):
            started = time.monotonic()
            resp = self.session.get(self.servers.api_url + url, headers=self.headers(),
                                    timeout=30)
            self.assertEqual(503, resp.status_code, url)
            self.assertLess(time.monotonic() - started, 10, url)
        self.pg.start()
        self.assertTrue(test_data_path.wait_for(lambda: self.session.get(
            self.servers.api_url + '/v2/images', headers=self.headers()).status_code == 200,
            30))
        self.assertEqual(data, self.download(image['id']).content)
        for log in (self.servers.api.log(), self.servers.stream.log()):
            self.assertNotIn('Traceback', log)
