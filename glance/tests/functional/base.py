"""Real glance-api and glance-stream processes on loopback, for functional tests.

``ServerFixture`` writes a config directory, syncs a fresh SQLite database (or the one a test
names), starts the servers as subprocesses on free ports, waits until they answer
``/healthcheck`` and stops them (SIGTERM, then SIGKILL) at cleanup. Tests talk to them over
HTTP with real clients.
"""

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import fixtures
import testtools

from glance.common import processes
from glance.tests.functional import secrets_scan

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ETC = os.path.join(ROOT, 'etc')


# Ports servers under test listen on: below the kernel's ephemeral range (32768 and up on
# Linux), so that no outgoing connection and no bind to port 0 (by a test's own helper
# server, or by another program) takes one, and above the test services' fixed ports.
PORT_RANGE = (20000, 32000)
PORTS_DIR = os.path.join(tempfile.gettempdir(), 'glance-test-ports')


def _reserve(port):
    """Reserve ``port`` for this process with a file named after it; True if it did.

    The file holds the pid: a reservation whose process is gone is taken over. A port stays
    reserved while its test process lives, so no other test, in this worker, in another
    worker or in another suite on the machine, binds it, however its servers restart.
    """
    path = os.path.join(PORTS_DIR, str(port))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    holder = int(f.read().strip() or 0)
            except (OSError, ValueError):
                holder = 0
            if holder and (holder == os.getpid() or processes.pid_alive(holder)):
                return False
            try:
                os.unlink(path)  # its process is gone: take it over
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, 'w') as f:
            f.write(str(os.getpid()))
        return True
    return False


def free_port():
    """A loopback port that is free now and that no other test will be given."""
    os.makedirs(PORTS_DIR, exist_ok=True)
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(*PORT_RANGE)
        if not _reserve(port):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(('127.0.0.1', port))  # not a test's, but another program's
            except OSError:
                continue
        return port
    raise RuntimeError('No free port in %d-%d after 1000 tries' % PORT_RANGE)


def write_conf(path, sections):
    """Write an ini file from {section: {option: value}}."""
    with open(path, 'w') as f:
        for section, options in sections.items():
            f.write('[%s]\n' % section)
            for key, value in options.items():
                if isinstance(value, (list, tuple)):
                    value = ','.join(str(v) for v in value)
                f.write('%s = %s\n' % (key, value))
            f.write('\n')


def wait_http(url, timeout=30.0, proc=None, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('server exited with %s before answering %s:\n%s'
                               % (proc.returncode, url, _tail(log_path)))
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError('no answer from %s within %ss:\n%s' % (url, timeout, _tail(log_path)))


def _tail(path, lines=40):
    if not path or not os.path.exists(path):
        return ''
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-lines:])


class Server:
    """One server process."""

    def __init__(self, name, module, conf_path, port, log_path, env=None):
        self.name = name
        self.module = module
        self.conf_path = conf_path
        self.port = port
        self.log_path = log_path
        self.env = env
        self.proc = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self, wait=True, timeout=30.0):
        log = open(self.log_path, 'ab')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', self.module, '--config-file', self.conf_path],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=self.env,
            start_new_session=True)
        log.close()
        if wait:
            wait_http(self.url + '/healthcheck', timeout, self.proc, self.log_path)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(5)

    def kill(self):
        return self.stop(signal.SIGKILL)

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()


class ServerFixture(fixtures.Fixture):
    """glance-api and (optionally) glance-stream sharing one database and store.

    ``api_conf`` / ``stream_conf`` / ``common_conf`` are {section: {option: value}} merged
    over the defaults (noauth flavor, SQLite under the temp dir, file store, 1 worker).
    """

    def __init__(self, flavor='noauth', stream=True, workers=1, common_conf=None,
                 api_conf=None, stream_conf=None, connection=None, paste_edit=None):
        super().__init__()
        self.flavor = flavor
        self.with_stream = stream
        self.workers = workers
        self.common_conf = common_conf or {}
        self.api_conf = api_conf or {}
        self.stream_conf = stream_conf or {}
        self.connection = connection
        self.paste_edit = paste_edit or {}  # paste file name -> function(text) -> text

    def _setUp(self):
        self.dir = tempfile.mkdtemp(prefix='glance-func-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.addCleanup(self.scan_logs)  # runs after the servers stopped
        self.state = os.path.join(self.dir, 'state')
        self.store_dir = os.path.join(self.dir, 'images')
        os.makedirs(self.store_dir)
        self.api_port = free_port()
        self.stream_port = free_port()
        connection = self.connection or 'sqlite:///%s/glance.sqlite' % self.dir
        self.ticket_key = secrets.token_hex(32)
        common = {
            'DEFAULT': {'state_path': self.state, 'workers': self.workers,
                        'debug': 'true', 'log_date_format': '%H:%M:%S',
                        'enabled_backends': 'local:file'},
            'database': {'connection': connection},
            'paste_deploy': {'flavor': self.flavor},
            'glance_store': {'default_backend': 'local'},
            'local': {'filesystem_store_datadir': self.store_dir},
            'stream': {'endpoints': 'http://127.0.0.1:%d' % self.stream_port,
                       'ticket_key': self.ticket_key},
            'cache': {'directory': os.path.join(self.state, 'cache')},
        }
        self.api_conf_path = self._write('glance-api.conf', common, self.common_conf,
                                         {'DEFAULT': {'bind_port': self.api_port}},
                                         self.api_conf)
        self.stream_conf_path = self._write('glance-stream.conf', common, self.common_conf,
                                            {'DEFAULT': {'bind_port': self.stream_port}},
                                            self.stream_conf)
        for name in ('glance-api-paste.ini', 'glance-stream-paste.ini'):
            with open(os.path.join(ETC, name)) as f:
                text = f.read()
            if name in self.paste_edit:
                text = self.paste_edit[name](text)
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write(text)
        self.manage('db', 'sync')
        self.api = Server('glance-api', 'glance.cmd.api', self.api_conf_path, self.api_port,
                          os.path.join(self.dir, 'glance-api.log'))
        self.stream = Server('glance-stream', 'glance.cmd.stream', self.stream_conf_path,
                             self.stream_port, os.path.join(self.dir, 'glance-stream.log'))
        if self.with_stream:
            self.stream.start()
            self.addCleanup(self.stream.stop)
        self.api.start()
        self.addCleanup(self.api.stop)
        self.addDetail('glance-api.log', testtools.content.content_from_file(
            self.api.log_path, buffer_now=False))

    def _write(self, name, *layers):
        merged = {}
        for layer in layers:
            for section, options in layer.items():
                merged.setdefault(section, {}).update(options)
        path = os.path.join(self.dir, name)
        write_conf(path, merged)
        return path

    def scan_logs(self):
        """Fail if any log of these servers holds a backend secret."""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith('.log'):
                with open(os.path.join(self.dir, name), 'rb') as f:
                    secrets_scan.find(f.read(), name)

    def manage(self, *args, conf=None, check=True):
        """Run glance-manage with the api config; returns the CompletedProcess."""
        result = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.manage', '--config-file',
             conf or self.api_conf_path] + list(args),
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        secrets_scan.find(result.stdout + result.stderr, 'glance-manage %s' % ' '.join(args))
        if check and result.returncode != 0:
            raise RuntimeError('glance-manage %s failed (%s): %s'
                               % (' '.join(args), result.returncode, result.stderr[-2000:]))
        return result

    @property
    def api_url(self):
        return self.api.url

    @property
    def stream_url(self):
        return self.stream.url


class FunctionalTest(testtools.TestCase):
    """A test with real servers; subclasses set ``server_kwargs`` to shape them.

    With ``shared_servers = True`` one set of servers serves every test of the class
    (started in setUpClass): use it where tests do not disturb each other, since a server
    start costs a few seconds.
    """

    server_kwargs = {}
    shared_servers = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._class_servers = None
        if cls.shared_servers:
            cls._class_servers = ServerFixture(**cls.server_kwargs)
            try:
                cls._class_servers.setUp()
            except Exception:
                cls._class_servers.cleanUp()
                raise

    @classmethod
    def tearDownClass(cls):
        if cls._class_servers is not None:
            cls._class_servers.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self._class_servers is not None:
            self.servers = self._class_servers
        else:
            self.servers = self.useFixture(ServerFixture(**self.server_kwargs))
