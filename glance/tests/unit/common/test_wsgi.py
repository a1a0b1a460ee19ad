"""The eventlet server's own behaviour: zero-copy file responses and socket binding."""

import hashlib
import os
import socket
import tempfile

import eventlet
import eventlet.wsgi
import requests
import testtools

from glance.common import exception
from glance.common import wsgi


class _Range:
    def __init__(self, path, offset):
        self.sendfile_fd = os.open(path, os.O_RDONLY)
        self.sendfile_offset = offset
        self.sendfile_length = os.path.getsize(path) - offset
        self.closed = False

    def __iter__(self):
        raise AssertionError('a sendfile-able body was iterated')

    def close(self):
        os.close(self.sendfile_fd)


def _file_app(path):
    def app(environ, start_response):
        body = _Range(path, int(environ.get('QUERY_STRING') or 0))
        start_response('200 OK', [('Content-Length', str(body.sendfile_length)),
                                  ('Content-Type', 'application/octet-stream')])
        return body
    return app


class TestSendfile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        fd, self.path = tempfile.mkstemp()
        self.addCleanup(os.unlink, self.path)
        self.data = os.urandom(3 * 1024 * 1024 + 17)
        with os.fdopen(fd, 'wb') as f:
            f.write(self.data)
        self.sock = wsgi.bind_socket('127.0.0.1', 0, 16)
        self.server = eventlet.spawn(eventlet.wsgi.server, self.sock,
                                     wsgi.ZeroCopy(_file_app(self.path)),
                                     protocol=wsgi.HttpProtocol, log_output=False)
        self.addCleanup(self.server.kill)
        self.url = 'http://127.0.0.1:%d/' % self.sock.getsockname()[1]

    def _get(self, query=''):
        # The test process is monkey-patched: the client's socket waits are green, so the
        # server's green thread runs meanwhile.
        return requests.get(self.url + query, timeout=30)

    def test_whole_file(self):
        resp = self._get()
        self.assertEqual(200, resp.status_code)
        self.assertEqual(hashlib.sha256(self.data).hexdigest(),
                         hashlib.sha256(resp.content).hexdigest())

    def test_from_an_offset_and_keepalive(self):
        with requests.Session() as session:
            for offset in (1, 1024 * 1024 + 5, len(self.data) - 1):
                resp = session.get(self.url + '?%d' % offset, timeout=30)
                self.assertEqual(len(self.data) - offset, len(resp.content))
                self.assertTrue(self.data[offset:] == resp.content, 'bytes differ at %d' % offset)


class TestBind(testtools.TestCase):

    def test_port_in_use_is_a_config_error(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            error = self.assertRaises(exception.ConfigError, wsgi.bind_socket,
                                      '127.0.0.1', port, 16)
        self.assertIn('Address already in use', str(error))


class TestAccessLogMasking(testtools.TestCase):

    def test_credentials_in_query_strings_are_masked(self):
        from glance.common import wsgi
        lines = []

        class Logger:
            def info(self, msg, *args):
                lines.append(msg % args if args else msg)

        log = wsgi._AccessLog(Logger())
        log.info('127.0.0.1 - - [x] "GET /v2/images/i/file?ticket=eyJhIjoxfQ.c2ln HTTP/1.1" '
                 '200 5 0.1\n')
        log.write('"GET /o?temp_url_sig=abc&temp_url_expires=1 HTTP/1.1" 200')
        log.info('"GET /b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00&x=1 HTTP/1.1" 200')
        log.info('"GET /v2/images?name=ticket HTTP/1.1" 200')
        self.assertEqual(
            ['127.0.0.1 - - [x] "GET /v2/images/i/file?ticket=*** HTTP/1.1" 200 5 0.1',
             '"GET /o?temp_url_sig=***&temp_url_expires=1 HTTP/1.1" 200',
             '"GET /b/k?X-Amz-Credential=***&X-Amz-Signature=***&x=1 HTTP/1.1" 200',
             '"GET /v2/images?name=ticket HTTP/1.1" 200'], lines)
