"""The server's own limits, tried with real processes and sockets on loopback.

An operator's stories: the supervisor is killed with -9 and its workers do not linger on the
port; thousands of idle or half-sent connections do not stop the health check from
answering; a worker at its connection limit says 503 at once instead of leaving clients in
the listen queue; idle keep-alive connections and slow headers are cut off on time.
"""

import os
import resource
import signal
import socket
import time

import psutil
import requests
import testtools

from glance.tests.functional import base


def _connect(port, send=b''):
    sock = socket.create_connection(('127.0.0.1', port), timeout=10)
    if send:
        sock.sendall(send)
    return sock


def _closed_within(sock, seconds):
    """True if the server closes ``sock`` (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except socket.timeout:
        return False
    except ConnectionError:
        return True


def _alive(procs):
    alive = []
    for proc in procs:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _get(sock, path=b'/healthcheck'):
    """One keep-alive GET on ``sock``; returns the status line."""
    sock.sendall(b'GET ' + path + b' HTTP/1.1\r\nHost: x\r\n\r\n')
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError('closed by the server')
        data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    length = int([line.split(b':')[1] for line in head.split(b'\r\n')
                  if line.lower().startswith(b'content-length:')][0])
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b'\r\n')[0]


def _port_free(port):
    """True if a server could listen on ``port`` now, as a restart would (SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
            sock.listen()
        except OSError:
            return False
    return True


class TestOrphanedWorkers(base.FunctionalTest):

    server_kwargs = {'stream': False, 'workers': 2}

    def test_workers_die_with_their_parent(self):
        parent = psutil.Process(self.servers.api.proc.pid)
        workers = parent.children()
        self.assertEqual(2, len(workers))
        os.kill(parent.pid, signal.SIGKILL)
        self.servers.api.proc.wait(10)
        deadline = time.monotonic() + 10
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual([], _alive(workers), 'workers outlived their parent')
        deadline = time.monotonic() + 5
        while not _port_free(self.servers.api_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(_port_free(self.servers.api_port))
        self.assertIn('lost its parent', self.servers.api.log())


class TestSlowClients(base.FunctionalTest):

    server_kwargs = {'stream': False, 'workers': 1, 'api_conf': {'DEFAULT': {
        'client_header_timeout': 2, 'keepalive_idle_timeout': 2}}}

    def test_slow_request_line_and_headers_are_cut_off(self):
        started = time.monotonic()
        silent = _connect(self.servers.api_port)
        partial_line = _connect(self.servers.api_port, b'GET /v2/ima')
        # a slowloris: a byte every half second, never finishing the headers
        dribbling = _connect(self.servers.api_port, b'GET /healthcheck HTTP/1.1\r\n')
        for _ in range(8):
            time.sleep(0.5)
            try:
                dribbling.sendall(b'X')
            except OSError:
                break
        for sock in (silent, partial_line, dribbling):
            self.assertTrue(_closed_within(sock, 5))
            sock.close()
        self.assertLess(time.monotonic() - started, 12)

    def test_idle_keepalive_connection_is_closed(self):
        sock = _connect(self.servers.api_port,
                        b'GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n')
        sock.settimeout(5)
        self.assertIn(b' 200 ', sock.recv(65536))
        started = time.monotonic()
        self.assertTrue(_closed_within(sock, 6))
        self.assertGreater(time.monotonic() - started, 1)
        sock.close()

    def test_a_busy_keepalive_connection_is_kept(self):
        sock = _connect(self.servers.api_port)
        self.addCleanup(sock.close)
        for _ in range(6):  # 3 s in all, beyond both timeouts, never idle 2 s
            self.assertIn(b' 200 ', _get(sock))
            time.sleep(0.5)


class TestIdleFlood(base.FunctionalTest):
    """3,000 connections that never finish a request (the issue's 2,100 blocked both servers)."""

    CONNECTIONS = 3000
    server_kwargs = {'stream': False, 'workers': 1}

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = self.CONNECTIONS + 256
        if soft < wanted:
            if hard != resource.RLIM_INFINITY and hard < wanted:
                self.skipTest('RLIMIT_NOFILE hard limit %d is below %d' % (hard, wanted))
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        super().setUp()

    def test_healthcheck_answers_through_3000_idle_connections(self):
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        deadline = time.monotonic() + 60
        for i in range(self.CONNECTIONS):
            socks.append(_connect(self.servers.api_port, b'GET /v2/images HTTP/1.1\r\nHo'
                                  if i % 2 else b''))
            self.assertLess(time.monotonic(), deadline, 'opening connections took > 60 s')
        time.sleep(1)  # let the worker accept them all
        worker = psutil.Process(self.servers.api.proc.pid).children()[0]
        held = len([c for c in worker.net_connections('tcp')
                    if c.status == psutil.CONN_ESTABLISHED])
        self.assertGreaterEqual(held, self.CONNECTIONS)
        for _ in range(5):
            started = time.monotonic()
            resp = requests.get(self.servers.api_url + '/healthcheck', timeout=5)
            self.assertEqual(200, resp.status_code)
            self.assertLess(time.monotonic() - started, 2)
        resp = requests.get(self.servers.api_url + '/v2/images', timeout=5)
        self.assertEqual(200, resp.status_code)


class TestConnectionLimit(base.FunctionalTest):

    LIMIT = 20
    server_kwargs = {'stream': False, 'workers': 1,
                     'api_conf': {'DEFAULT': {'max_client_connections': LIMIT}}}

    def test_a_full_worker_answers_503_and_recovers(self):
        # the fixture's health check already left nothing open; fill every slot
        socks = [_connect(self.servers.api_port) for _ in range(self.LIMIT)]
        self.addCleanup(lambda: [s.close() for s in socks])
        time.sleep(0.5)
        started = time.monotonic()
        resp = requests.get(self.servers.api_url + '/healthcheck', timeout=5)
        self.assertEqual(503, resp.status_code)
        self.assertEqual('1', resp.headers['Retry-After'])
        self.assertLess(time.monotonic() - started, 2, 'refused, not queued')
        for sock in socks:
            sock.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if requests.get(self.servers.api_url + '/healthcheck',
                            timeout=5).status_code == 200:
                break
            time.sleep(0.2)
        else:
            self.fail('the worker did not recover its connection slots')
        self.assertIn('max_client_connections', self.servers.api.log())


class TestIdleKeepaliveBound(base.FunctionalTest):

    server_kwargs = {'stream': False, 'workers': 1,
                     'api_conf': {'DEFAULT': {'max_idle_keepalive_connections': 2}}}

    def test_idle_connections_beyond_the_bound_are_closed(self):
        socks, heads = [], []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(4):
            sock = _connect(self.servers.api_port,
                            b'GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n')
            sock.settimeout(5)
            heads.append(sock.recv(65536).split(b'\r\n\r\n')[0])
            socks.append(sock)
            time.sleep(0.2)  # let the server go idle on it
        self.assertTrue(all(b' 200 ' in head for head in heads))
        # the ones beyond the bound are told, then closed
        self.assertEqual([False, False, True, True],
                         [b'Connection: close' in head for head in heads])
        closed = [_closed_within(sock, 1) for sock in socks]
        self.assertEqual([False, False, True, True], closed)


class TestNoFileLimit(testtools.TestCase):

    def test_raised_towards_the_connection_limit(self):
        from glance.common import wsgi
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        wanted = 1024 if hard == resource.RLIM_INFINITY else min(1024, hard)
        self.assertEqual(wanted, wsgi.raise_nofile_limit(1024))
        self.assertEqual(wanted, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
