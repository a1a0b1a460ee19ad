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


class TestNoDelay(testtools.TestCase):
    """Accepted TCP connections do without Nagle's algorithm.

    With it, the tail of a response longer than the 16 KiB write buffer (a page of images)
    waited for the client's delayed acknowledgement: 40 ms on every such response.
    """

    def test_accepted_connections_have_tcp_nodelay(self):
        sock = wsgi.bind_socket('127.0.0.1', 0, 16)
        seen = []

        class Recording(wsgi.HttpProtocol):
            def setup(self):
                super().setup()
                seen.append(self.connection.getsockopt(socket.IPPROTO_TCP,
                                                       socket.TCP_NODELAY))
        body = os.urandom(40 * 1024)

        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', str(len(body)))])
            return [body]
        server = eventlet.spawn(eventlet.wsgi.server, sock, app, protocol=Recording,
                                log_output=False)
        self.addCleanup(server.kill)
        with requests.Session() as session:
            for _ in range(2):
                resp = session.get('http://127.0.0.1:%d/' % sock.getsockname()[1], timeout=30)
                self.assertTrue(body == resp.content, 'the bytes differ')
        self.assertEqual(1, len(seen))  # one kept-alive connection
        self.assertNotEqual(0, seen[0])


def _slices_app(path, parts):
    """A SliceBody of the file: FileSlices and bytes mixed, as a follower of a fill sends."""
    def app(environ, start_response):
        fd = os.open(path, os.O_RDONLY)
        sent_as_file = []

        def body():
            try:
                for kind, offset, length in parts:
                    if kind == 'file':
                        sent_as_file.append(length)
                        yield wsgi.FileSlice(fd, offset, length)
                    else:
                        yield os.pread(fd, length, offset)
            finally:
                os.close(fd)
        environ['test.sent_as_file'] = sent_as_file
        total = sum(length for _kind, _offset, length in parts)
        start_response('200 OK', [('Content-Length', str(total)),
                                  ('Content-Type', 'application/octet-stream')])
        return wsgi.SliceBody(body()).prime()
    return app


class TestSliceBody(testtools.TestCase):
    """A body of file slices and bytes: sendfile for the slices, the same bytes either way."""

    def setUp(self):
        super().setUp()
        fd, self.path = tempfile.mkstemp()
        self.addCleanup(os.unlink, self.path)
        self.data = os.urandom(3 * 1024 * 1024 + 17)
        with os.fdopen(fd, 'wb') as f:
            f.write(self.data)
        MiB = 1024 * 1024
        self.parts = [('file', 0, MiB + 3), ('bytes', MiB + 3, 10), ('file', MiB + 13, MiB),
                      ('bytes', 2 * MiB + 13, MiB + 4)]

    def test_sent_with_sendfile_by_the_eventlet_server(self):
        sock = wsgi.bind_socket('127.0.0.1', 0, 16)
        sendfiles = []

        class Recording(wsgi.HttpProtocol):
            def _sendfile(self, fd, offset, count):
                sendfiles.append((offset, count))
                return super()._sendfile(fd, offset, count)
        server = eventlet.spawn(eventlet.wsgi.server, sock,
                                wsgi.ZeroCopy(_slices_app(self.path, self.parts)),
                                protocol=Recording, log_output=False)
        self.addCleanup(server.kill)
        resp = requests.get('http://127.0.0.1:%d/' % sock.getsockname()[1], timeout=30)
        self.assertEqual(200, resp.status_code)
        self.assertTrue(self.data == resp.content, 'the bytes differ')
        self.assertEqual([(0, 1024 * 1024 + 3), (1024 * 1024 + 13, 1024 * 1024)], sendfiles)

    def test_iterated_as_bytes_elsewhere(self):
        environ = {}
        body = _slices_app(self.path, self.parts)(environ, lambda status, headers: None)
        chunks = list(body)
        self.assertTrue(all(isinstance(chunk, bytes) for chunk in chunks))
        self.assertTrue(self.data == b''.join(chunks), 'the bytes differ')

    def test_prime_raises_before_any_byte(self):
        def failing():
            raise exception.ImageDataCorrupt(image_id='x')
            yield b''  # pragma: no cover
        self.assertRaises(exception.ImageDataCorrupt, wsgi.SliceBody(failing()).prime)


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
