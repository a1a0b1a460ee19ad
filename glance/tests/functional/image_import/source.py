"""A web server on loopback that web-download imports fetch from, in the test process.

It serves registered bodies (``/data/<name>``), redirects (``/redirect?to=<url>``), a body
larger than it says it is (``/oversized``), and a server that stalls half-way through a
body (``/stall/<name>``) until the test releases it (bounded: at most ``STALL_LIMIT``
seconds).

``ClassSource`` gives a FunctionalTest class one source for all its tests (``cls.source``).
"""

import http.server
import threading
import urllib.parse

STALL_LIMIT = 60


class Source:

    def __init__(self):
        self.bodies = {}
        self.requests = []
        self.release = threading.Event()
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path, host='127.0.0.1'):
        return 'http://%s:%d%s' % (host, self.port, path)

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        source = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_GET(self):
                source.requests.append(self.path)
                path, _sep, query = self.path.partition('?')
                params = urllib.parse.parse_qs(query)
                if path == '/redirect':
                    self.send_response(302)
                    self.send_header('Location', params['to'][0])
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                elif path.startswith('/data/') and path[6:] in source.bodies:
                    body = source.bodies[path[6:]]
                    self.send_response(200)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # a client that wanted only the headers (a size)
                elif path.startswith('/stall/') and path[7:] in source.bodies:
                    body = source.bodies[path[7:]]
                    self.send_response(200)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    source.release.wait(STALL_LIMIT)
                elif path == '/oversized':
                    # No Content-Length: the size shows only as the body arrives.
                    size = int(params['size'][0])
                    self.send_response(200)
                    self.send_header('Connection', 'close')
                    self.end_headers()
                    chunk = b'\0' * 65536
                    try:
                        for _ in range(size // len(chunk) + 1):
                            self.wfile.write(chunk)
                    except OSError:
                        pass  # glance stopped reading: what the test wants
                    self.close_connection = True
                else:
                    self.send_response(404)
                    self.send_header('Content-Length', '0')
                    self.end_headers()

        return Handler


class ClassSource:
    """A FunctionalTest mixin: one ``Source`` (``cls.source``) for every test of the class.

    It starts before the class's servers and stops after them (a class cleanup), also when
    the servers fail to start.
    """

    @classmethod
    def setUpClass(cls):
        cls.source = Source()
        cls.addClassCleanup(cls.source.stop)
        super().setUpClass()
