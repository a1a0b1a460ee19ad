"""The eventlet WSGI server that runs glance-api and glance-stream.

The parent process binds the listening socket and forks ``workers`` children that serve it; it
restarts a child that dies, and on SIGHUP reloads the configuration files and replaces every
child (old children finish their in-flight requests first). SIGTERM or SIGINT stop accepting,
let in-flight requests finish for up to ``graceful_shutdown_timeout`` seconds, and exit. With
``workers = 0`` everything runs in the one process (handy under a debugger and in tests).
A worker whose parent dies (``kill -9``, OOM killer) stops by itself within a second, so no
orphan keeps serving the port.

Slow and idle clients cannot exhaust a worker: the request line and headers must arrive within
``client_header_timeout``, an idle keep-alive connection is closed after
``keepalive_idle_timeout`` (or at once when ``max_idle_keepalive_connections`` are already
idle), and a worker holding ``max_client_connections`` answers a new one 503 and closes it
instead of leaving it in the listen queue. Requests being served are bounded separately, by
``wsgi_default_pool_size``. doc/source/admin/limits.rst explains how to size these.

The applications themselves are plain WSGI callables: see glance/wsgi/ for uWSGI and friends.
"""

import collections
import errno
import os
import re
import resource
import signal
import socket
import sys
import time

import eventlet
from eventlet import greenio
from eventlet import semaphore
import eventlet.wsgi
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import background
from glance.common import exception
from glance.common import native

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

bind_opts = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help='Address to listen on. The default keeps the server on loopback; '
                            'use 0.0.0.0 or :: to serve other hosts.'),
    cfg.PortOpt('bind_port',
                help='Port to listen on. Defaults to 9292 for glance-api and 9293 for '
                     'glance-stream.'),
]

server_opts = [
    cfg.IntOpt('workers', min=0,
               help='Number of worker processes. Defaults to the number of CPUs (at most '
                    '8). 0 serves from the main process itself, without forking.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Listen backlog of the server socket.'),
    cfg.IntOpt('tcp_keepidle', default=600, min=1,
               help='TCP_KEEPIDLE for client connections, in seconds.'),
    cfg.BoolOpt('http_keepalive', default=True,
                help='Keep client connections open between requests (HTTP keep-alive). '
                     'When False every response closes its connection.'),
    cfg.IntOpt('client_socket_timeout', default=900, min=0,
               help='Seconds a client connection may stay idle, or a request may wait for '
                    'the client, before the server closes it. 0 waits forever.'),
    cfg.IntOpt('max_header_line', default=16384, min=1,
               help='Longest request header line accepted, in bytes (a Keystone token with '
                    'a large service catalog needs a long one).'),
    cfg.IntOpt('wsgi_default_pool_size', default=1000, min=1,
               help='Most requests one worker serves at once (green threads). A request '
                    'beyond this waits, fully received, for one to finish; idle and '
                    'half-received connections do not count (see max_client_connections).'),
    cfg.IntOpt('max_client_connections', default=4096, min=1,
               help='Most client connections one worker holds open at once: requests being '
                    'served, requests still arriving and idle keep-alive connections. A '
                    'worker at this limit answers a new connection "503 Service '
                    'Unavailable" and closes it, so the others keep being served. The '
                    'server raises its open-file limit (RLIMIT_NOFILE) to fit, up to the '
                    'hard limit; raise that ("LimitNOFILE=" in a systemd unit) for more.'),
    cfg.IntOpt('client_header_timeout', default=30, min=0,
               help='Seconds a client has to send the request line and all headers of a '
                    'request, counted from the connection (or, on a kept-alive connection, '
                    'from the first byte of the request). A slower client is disconnected. '
                    'Image bodies are not concerned: they are read under '
                    'client_socket_timeout. 0 disables this limit.'),
    cfg.IntOpt('keepalive_idle_timeout', default=60, min=0,
               help='Seconds a kept-alive connection may stay idle between two requests '
                    'before the server closes it. 0 leaves it to client_socket_timeout.'),
    cfg.IntOpt('max_idle_keepalive_connections', default=1024, min=0,
               help='Most idle keep-alive connections one worker keeps; a connection that '
                    'would go idle beyond this is closed after its response (clients '
                    'reconnect transparently). 0 closes every connection after its '
                    'response, like http_keepalive = False.'),
    cfg.IntOpt('graceful_shutdown_timeout', default=60, min=0,
               help='Seconds a stopping worker waits for in-flight requests before it exits. '
                    '0 waits as long as they last.'),
]

CONF.register_opts(bind_opts)
CONF.register_opts(server_opts)


def default_workers():
    return min(os.cpu_count() or 1, 8)


def bind_socket(host, port, backlog):
    """Bind the listening socket, or raise ConfigError with one clear sentence."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    try:
        sock = eventlet.listen((host, port), family=family, backlog=backlog,
                               reuse_port=False)
    except OSError as e:
        reason = os.strerror(e.errno) if e.errno else str(e)
        raise exception.ConfigError(reason='cannot listen on %s:%s: %s' % (host, port, reason))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if hasattr(socket, 'TCP_KEEPIDLE'):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, CONF.tcp_keepidle)
    return sock


# Query parameters that are credentials: a download ticket, a signed cache call, a Swift
# TempURL or S3 presigned signature, a token. Their values never reach a log.
_SECRET_QUERY = re.compile(
    r'(?i)([?&;](?:ticket|token|signature|sig|temp_url_sig|x-amz-signature|'
    r'x-amz-credential|x-amz-security-token|awsaccesskeyid)=)[^&;\s"]*')


def mask_secrets(line):
    """``line`` with the value of every credential-bearing query parameter replaced."""
    return _SECRET_QUERY.sub(r'\1***', line)


class _AccessLog:
    """eventlet.wsgi writes access lines to a file-like or logger object: send them to oslo.log.

    The request line is logged with credential-bearing query values masked: a download
    ticket in glance-stream's log would otherwise be a bearer credential for anyone who can
    read the log.
    """

    def __init__(self, logger):
        self._log = logger

    def info(self, msg, *args):
        self._log.info(mask_secrets(msg.rstrip()), *args)

    def debug(self, msg, *args):
        self._log.debug(mask_secrets(msg.rstrip()), *args)

    def error(self, msg, *args):
        self._log.error(mask_secrets(msg.rstrip()), *args)

    def write(self, msg):
        self._log.info(mask_secrets(msg.rstrip()))


def raise_nofile_limit(wanted):
    """Raise this process's open-file soft limit towards ``wanted``, up to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < wanted:
        LOG.warning('The open-file limit (%d) is below what max_client_connections needs '
                    '(%d): raise the hard limit (ulimit -Hn, LimitNOFILE) or lower '
                    'max_client_connections.', new, wanted)
    return new


class Server:
    """Serve one WSGI application, loaded by ``load_app()`` in every worker.

    ``name`` names the service in logs. ``load_app`` is called in the parent once at start,
    so that a broken pipeline stops the server before it forks, and in each worker.
    """

    def __init__(self, name, load_app, default_port):
        self.name = name
        self.load_app = load_app
        self.default_port = default_port
        self.sock = None
        self.children = {}
        self.running = True
        self.reloading = False
        self.parent_pid = None  # set in workers: the supervisor they die with

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def start(self):
        eventlet.wsgi.MAX_HEADER_LINE = CONF.max_header_line
        # Every connection is a descriptor; keep room for files, database and backend sockets.
        raise_nofile_limit(CONF.max_client_connections + 1024)
        host = CONF.bind_host
        port = CONF.bind_port if CONF.bind_port is not None else self.default_port
        self.app = self.load_app()
        self.sock = bind_socket(host, port, CONF.backlog)
        LOG.info('%s listening on %s:%s', self.name, host, self.port)

    def run(self):
        """Serve until told to stop; returns the process exit status."""
        workers = CONF.workers if CONF.workers is not None else default_workers()
        if workers == 0:
            return self._run_worker(self.app)
        self.app = None  # each worker loads its own copy after the fork
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        for _ in range(workers):
            self._fork_worker()
        while self.running or self.children:
            if self.reloading:
                self._reload(workers)
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                time.sleep(0.2)  # the parent serves nothing: a plain poll keeps it simple
                continue
            self.children.pop(pid, None)
            serving = sum(1 for state in self.children.values() if state == 'serving')
            if self.running and serving < workers:
                LOG.error('%s worker %s exited with status %s; starting another',
                          self.name, pid, status)
                self._fork_worker()
        LOG.info('%s stopped', self.name)
        return 0

    def _on_stop(self, signum, frame):
        if self.running:
            self.running = False
            LOG.info('%s got signal %s: stopping workers', self.name, signum)
            for pid in list(self.children):
                _signal(pid, signal.SIGTERM)

    def _on_hup(self, signum, frame):
        self.reloading = True

    def _reload(self, workers):
        self.reloading = False
        LOG.info('%s got SIGHUP: reloading configuration and replacing workers', self.name)
        error = None
        try:
            CONF.reload_config_files()
            self.load_app()  # a broken new configuration keeps the old workers
        except Exception as e:
            error = e
        if error is not None:
            # Logged outside the except block: oslo.log would append the exception again.
            LOG.error('%s keeps its workers: the new configuration does not load: %s',
                      self.name, error)
            return
        old = list(self.children)
        for _ in range(workers):
            self._fork_worker()
        for pid in old:
            self.children[pid] = 'stale'
            _signal(pid, signal.SIGTERM)

    def _fork_worker(self):
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                self.parent_pid = parent
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                eventlet.hubs.use_hub()  # a fresh hub: the parent's belongs to the parent
                native.reset_tpool_after_fork()  # and a native thread pool of its own
                status = self._run_worker(self.load_app())
            except Exception:
                LOG.exception('%s worker failed', self.name)
            finally:
                os._exit(status)
        self.children[pid] = 'serving'
        return pid

    def _orphaned(self):
        """True once the supervisor is gone (the worker was re-parented)."""
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def _run_worker(self, app):
        background.start(self.name)  # after the fork: once per host, see its docstring
        pool = ConnectionPool(CONF.max_client_connections, self.name)
        server = eventlet.spawn(
            eventlet.wsgi.server, self.sock, ZeroCopy(app), custom_pool=pool,
            log=_AccessLog(logging.getLogger('%s.access' % self.name)),
            log_output=True, debug=False,
            keepalive=CONF.http_keepalive,
            socket_timeout=CONF.client_socket_timeout or None,
            protocol=HttpProtocol.for_worker())
        stopping = []
        signal.signal(signal.SIGTERM, lambda s, f: stopping.append(s))
        if CONF.workers == 0:
            signal.signal(signal.SIGINT, lambda s, f: stopping.append(s))
        while not stopping and not server.dead:
            if self._orphaned():
                # kill -9 of the parent: serving on would keep the port from a restart and
                # hide us from "stop"; finish what is in flight and go.
                LOG.warning('%s worker %s lost its parent %s: stopping', self.name,
                            os.getpid(), self.parent_pid)
                break
            eventlet.sleep(0.2)
        if server.dead:
            return 1
        LOG.info('%s worker %s draining in-flight requests', self.name, os.getpid())
        server.kill(SystemExit)  # stop accepting; eventlet closes idle keep-alive connections
        timeout = CONF.graceful_shutdown_timeout or None
        with eventlet.Timeout(timeout, False):
            pool.waitall()
        if pool.running():
            LOG.warning('%s worker %s exits with %d requests still running',
                        self.name, os.getpid(), pool.running())
        return 0


SENDFILE_KEY = 'glance.sendfile'
_SENDFILE_CHUNK = 8 * 1024 * 1024


class FileSlice(collections.namedtuple('FileSlice', 'fd offset length')):
    """``length`` bytes of the open file ``fd`` from ``offset``: a part of a SliceBody."""

    def chunks(self, size=1024 * 1024):
        position, remaining = self.offset, self.length
        while remaining > 0:
            data = os.pread(self.fd, min(remaining, size), position)
            if not data:
                raise EOFError('file ended %d bytes short of the range to send' % remaining)
            position += len(data)
            remaining -= len(data)
            yield data


class SliceBody:
    """A response body made of parts that are bytes or FileSlices.

    Such as a cache file read while it is being filled. ZeroCopy sends the FileSlices
    with sendfile. Iterated like any WSGI body (by another server, or a middleware that
    reads the body), it reads them into bytes. ``prime()``
    reads the first part ahead, so that an error before any byte is raised before the
    status line is sent.
    """

    def __init__(self, parts):
        self._parts = iter(parts)
        self._first = None

    def prime(self):
        if self._first is None:
            self._first = next(self._parts, b'')
        return self

    def sendfile_parts(self):
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._parts

    def __iter__(self):
        for part in self.sendfile_parts():
            if isinstance(part, FileSlice):
                yield from part.chunks()
            elif part:
                yield part

    def close(self):
        close = getattr(self._parts, 'close', None)
        if close is not None:
            close()


class ZeroCopy:
    """Send file-backed response bodies with sendfile.

    A body (the iterable an application returns) with ``sendfile_fd``, ``sendfile_offset``
    and ``sendfile_length`` attributes is a byte range of an open file: once the headers are
    out, the kernel copies the range straight to the client. A SliceBody's FileSlices are
    sent the same way, its bytes parts written as usual. Any other body, or a server
    without ``glance.sendfile`` in the environ, is iterated as usual.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        writers = []

        def capture(status, headers, exc_info=None):
            writers.append(start_response(status, headers, exc_info))
            return writers[-1]

        body = self.app(environ, capture)
        sendfile = environ.get(SENDFILE_KEY)
        parts = getattr(body, 'sendfile_parts', None)
        if (sendfile is None or not writers
                or (parts is None and getattr(body, 'sendfile_fd', None) is None)):
            return body
        try:
            writers[-1](b'')  # the status line and headers
            if parts is None:
                sendfile(body.sendfile_fd, body.sendfile_offset, body.sendfile_length)
            else:
                for part in parts():
                    if isinstance(part, FileSlice):
                        sendfile(part.fd, part.offset, part.length)
                    elif part:
                        writers[-1](part)
            done = getattr(body, 'sendfile_done', None)
            if done is not None:
                done()
        finally:
            close = getattr(body, 'close', None)
            if close is not None:
                close()
        return []


_BUSY = (b'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n'
         b'Content-Length: 38\r\nRetry-After: 1\r\nConnection: close\r\n\r\n'
         b'Too many connections; retry shortly.\r\n')


class ConnectionPool(eventlet.GreenPool):
    """The green pool of a worker's connections, that sheds instead of blocking when full.

    eventlet's accept loop spawns one green thread per connection into this pool; a plain
    GreenPool makes the loop wait for a free slot, so a flood of idle connections would stop
    the worker from accepting anything (health checks included). Here a connection beyond
    the limit gets a short 503 from a green thread outside the pool, and is closed.
    """

    def __init__(self, size, name):
        super().__init__(size)
        self.name = name
        self.shed = 0

    def spawn(self, function, *args, **kwargs):
        if self.free() > 0 or not args:
            return super().spawn(function, *args, **kwargs)
        self.shed += 1
        if self.shed == 1 or self.shed % 1000 == 0:
            LOG.warning('%s worker %s holds max_client_connections (%d) connections: '
                        'answered 503 to %d new ones so far', self.name, os.getpid(),
                        self.size, self.shed)
        return eventlet.spawn(_refuse, args[0])


def _refuse(conn_state):
    """Answer 503 on a connection the worker has no room for (eventlet closes it after)."""
    sock = conn_state[1]
    try:
        sock.settimeout(1)
        sock.sendall(_BUSY)
    except OSError:
        pass


class _HeaderTimeout(socket.timeout):
    """The client did not send a request's line and headers within client_header_timeout.

    A socket.timeout, so that eventlet closes the connection quietly as for any timeout.
    """


class HttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's protocol, plus zero-copy file responses and limits on slow clients.

    Every request's environ carries ``glance.sendfile(fd, offset, count)``, which ZeroCopy
    (around every application this server runs) uses for file-backed bodies: the kernel
    copies the range to the client (``os.sendfile``), with no trip through Python buffers.
    Under other servers (uWSGI, gunicorn) the same bodies are simply iterated.

    The limits (see the module docstring) live here because only the protocol sees a
    connection's phases: waiting idle, receiving headers, being served.
    """

    # Per worker (set by for_worker): requests being served, and idle connections.
    requests = None
    idle = None

    @classmethod
    def for_worker(cls):
        """This protocol with counters of its own, for one worker process."""
        return type(cls.__name__, (cls,), {
            'requests': semaphore.Semaphore(CONF.wsgi_default_pool_size),
            'idle': [0]})

    def setup(self):
        super().setup()
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            # No Nagle: a response is written as the 16 KiB buffer fills and then its tail,
            # and Nagle would hold a tail shorter than a segment until the client acknowledges
            # the rest, which a client delays by up to 40 ms: every response between 16 and
            # about 80 KiB (a page of images) took 40 ms longer than its work.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._served = 0
        self._header_timer = None

    def _read_request_line(self):
        if self._served and not self._wait_idle():
            self.close_connection = 1
            return ''
        if CONF.client_header_timeout:
            self._header_timer = eventlet.Timeout(CONF.client_header_timeout,
                                                  _HeaderTimeout('request headers too slow'))
        self._served += 1
        return super()._read_request_line()

    def _wait_idle(self):
        """Wait for the next request on a kept-alive connection; False to close it."""
        idle = self.idle if self.idle is not None else [0]
        if idle[0] >= CONF.max_idle_keepalive_connections or self.rfile.closed:
            return False
        idle[0] += 1
        try:
            if CONF.keepalive_idle_timeout:
                self.connection.settimeout(CONF.keepalive_idle_timeout)
            return bool(self.rfile.peek(1))
        except OSError:  # timed out, reset, closed
            return False
        finally:
            idle[0] -= 1
            self.connection.settimeout(self.server.socket_timeout)

    def parse_request(self):
        try:
            return super().parse_request()
        finally:
            self._cancel_header_timer()

    def _cancel_header_timer(self):
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def handle_one_request(self):
        try:
            super().handle_one_request()
        finally:
            self._cancel_header_timer()

    def handle_one_response(self):
        if self.idle is not None and self.idle[0] >= CONF.max_idle_keepalive_connections:
            # No room to keep this connection once it goes idle: say so in the response
            # ("Connection: close") rather than close under a client that may reuse it.
            self.close_connection = 1
        if self.requests is None:
            return super().handle_one_response()
        with self.requests:
            return super().handle_one_response()

    def get_environ(self):
        environ = super().get_environ()
        environ[SENDFILE_KEY] = self._sendfile
        if self.headers.get('Content-Type') is None:
            # eventlet fills in "text/plain" (the email parser's default); the application
            # must see that the client declared none, as under any other server.
            environ.pop('CONTENT_TYPE', None)
        return environ

    def _sendfile(self, fd, offset, count):
        """Send ``count`` bytes of ``fd`` from ``offset``; returns the bytes sent."""
        self.wfile.flush()
        sock = self.connection
        sent_total = 0
        while sent_total < count:
            try:
                sent = os.sendfile(sock.fileno(), fd, offset + sent_total,
                                   min(count - sent_total, _SENDFILE_CHUNK))
            except BlockingIOError:
                eventlet.hubs.trampoline(sock.fileno(), write=True,
                                         timeout=CONF.client_socket_timeout or None,
                                         timeout_exc=socket.timeout)
                continue
            if sent == 0:
                raise EOFError('file ended %d bytes short of the range to send'
                               % (count - sent_total))
            sent_total += sent
        return sent_total


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except OSError as e:
        if e.errno != errno.ESRCH:
            raise


def serve(name, load_app, default_port):
    """Bind, run and exit: the body of glance-api's and glance-stream's main()."""
    server = Server(name, load_app, default_port)
    server.start()
    sys.exit(server.run())


def list_opts():
    return [(None, bind_opts + server_opts)]


__all__ = ['Server', 'serve', 'bind_socket', 'greenio']
