"""The eventlet WSGI server that runs glance-api and glance-stream.

The parent process binds the listening socket and forks ``workers`` children that serve it; it
restarts a child that dies, and on SIGHUP reloads the configuration files and replaces every
child (old children finish their in-flight requests first). SIGTERM or SIGINT stop accepting,
let in-flight requests finish for up to ``graceful_shutdown_timeout`` seconds, and exit. With
``workers = 0`` everything runs in the one process (handy under a debugger and in tests).

The applications themselves are plain WSGI callables: see glance/wsgi/ for uWSGI and friends.
"""

import errno
import os
import signal
import socket
import sys
import time

import eventlet
from eventlet import greenio
import eventlet.wsgi
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import background
from glance.common import exception

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
               help='Most requests one worker serves at once (green threads).'),
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


class _AccessLog:
    """eventlet.wsgi writes access lines to a file-like or logger object: send them to oslo.log."""

    def __init__(self, logger):
        self._log = logger

    def info(self, msg, *args):
        self._log.info(msg.rstrip(), *args)

    def debug(self, msg, *args):
        self._log.debug(msg.rstrip(), *args)

    def error(self, msg, *args):
        self._log.error(msg.rstrip(), *args)

    def write(self, msg):
        self._log.info(msg.rstrip())


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

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def start(self):
        eventlet.wsgi.MAX_HEADER_LINE = CONF.max_header_line
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
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                eventlet.hubs.use_hub()  # a fresh hub: the parent's belongs to the parent
                status = self._run_worker(self.load_app())
            except Exception:
                LOG.exception('%s worker failed', self.name)
            finally:
                os._exit(status)
        self.children[pid] = 'serving'
        return pid

    def _run_worker(self, app):
        background.start(self.name)  # after the fork: once per host, see its docstring
        pool = eventlet.GreenPool(CONF.wsgi_default_pool_size)
        server = eventlet.spawn(
            eventlet.wsgi.server, self.sock, ZeroCopy(app), custom_pool=pool,
            log=_AccessLog(logging.getLogger('%s.access' % self.name)),
            log_output=True, debug=False,
            keepalive=CONF.http_keepalive,
            socket_timeout=CONF.client_socket_timeout or None,
            protocol=HttpProtocol)
        stopping = []
        signal.signal(signal.SIGTERM, lambda s, f: stopping.append(s))
        if CONF.workers == 0:
            signal.signal(signal.SIGINT, lambda s, f: stopping.append(s))
        while not stopping and not server.dead:
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


class ZeroCopy:
    """Send file-backed response bodies with sendfile.

    A body (the iterable an application returns) with ``sendfile_fd``, ``sendfile_offset``
    and ``sendfile_length`` attributes is a byte range of an open file: once the headers are
    out, the kernel copies the range straight to the client. Any other body, or a server
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
        if sendfile is None or getattr(body, 'sendfile_fd', None) is None or not writers:
            return body
        try:
            writers[-1](b'')  # the status line and headers
            sendfile(body.sendfile_fd, body.sendfile_offset, body.sendfile_length)
        finally:
            close = getattr(body, 'close', None)
            if close is not None:
                close()
        return []


class HttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's protocol, plus zero-copy file responses.

    Every request's environ carries ``glance.sendfile(fd, offset, count)``, which ZeroCopy
    (around every application this server runs) uses for file-backed bodies: the kernel
    copies the range to the client (``os.sendfile``), with no trip through Python buffers.
    Under other servers (uWSGI, gunicorn) the same bodies are simply iterated.
    """

    def get_environ(self):
        environ = super().get_environ()
        environ[SENDFILE_KEY] = self._sendfile
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
