"""Side-by-side benchmark: this project, upstream Glance (under uWSGI) and nginx, one run.

Started by tools/bench/run.sh, which prepares the virtualenvs and nginx. Every phase is
bounded in count and in time. For each figure: throughput, p50/p99 latency, server CPU per
request or per GiB (utime+stime from /proc over the server's whole process tree), peak
memory (PSS) of that tree, and ratios. Prints a table and writes JSON.
"""

import argparse
import collections
import hashlib
import http.client
import json
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse

MiB = 1024 * 1024
GiB = 1024 * MiB
TICK = os.sysconf('SC_CLK_TCK')
PAGE = os.sysconf('SC_PAGE_SIZE')
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


# --- measuring ------------------------------------------------------------------------------

def _children():
    kids = collections.defaultdict(list)
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            kids[int(fields[1])].append(int(pid))
        except OSError:
            pass
    return kids


def tree(pids):
    """Every pid under the given roots, roots included."""
    kids = _children()
    found, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(kids.get(pid, ()))
    return found


def cpu_seconds(pids):
    total = 0
    for pid in tree(pids):
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            # utime, stime, cutime, cstime: children that exited count too
            total += sum(int(x) for x in fields[11:15])
        except OSError:
            pass
    return total / TICK


def rss_bytes(pids):
    """Memory of the process tree: the sum of each process's PSS.

    PSS splits shared pages between the processes sharing them, so forked workers are not
    counted twice; RSS stands in where the kernel has no smaps_rollup.
    """
    total = 0
    for pid in tree(pids):
        try:
            with open('/proc/%d/smaps_rollup' % pid) as f:
                for line in f:
                    if line.startswith('Pss:'):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            try:
                with open('/proc/%d/statm' % pid) as f:
                    total += int(f.read().split()[1]) * PAGE
            except OSError:
                pass
    return total


def process_rss(pids):
    """{pid: RSS bytes} of every process of the tree."""
    result = {}
    for pid in tree(pids):
        try:
            with open('/proc/%d/statm' % pid) as f:
                result[pid] = int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return result


class Meter:
    """CPU and peak memory (PSS) of a server's process tree over a phase."""

    def __init__(self, pids):
        self.pids = pids

    def __enter__(self):
        self.cpu0 = cpu_seconds(self.pids)
        self.t0 = time.monotonic()
        self.peak = rss_bytes(self.pids)
        self.proc_start = process_rss(self.pids)
        self.proc_peak = dict(self.proc_start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_bytes(self.pids))
            for pid, rss in process_rss(self.pids).items():
                self.proc_peak[pid] = max(self.proc_peak.get(pid, 0), rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        # per process: the largest RSS reached, and the largest growth over the phase
        self.peak_proc = max(self.proc_peak.values() or [0])
        self.growth_proc = max([self.proc_peak[pid] - self.proc_start.get(pid, 0)
                                for pid in self.proc_peak] or [0])
        self.wall = time.monotonic() - self.t0
        self.cpu = cpu_seconds(self.pids) - self.cpu0


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


# --- HTTP client ----------------------------------------------------------------------------

class Client:
    """One keep-alive connection per host, following redirects (a thread's own client)."""

    def __init__(self, headers=None, timeout=300):
        self.conns = {}
        self.headers = headers or {}
        self.timeout = timeout

    def _conn(self, netloc):
        conn = self.conns.get(netloc)
        if conn is None:
            host, port = netloc.rsplit(':', 1)
            conn = self.conns[netloc] = http.client.HTTPConnection(
                host, int(port), timeout=self.timeout, blocksize=MiB)
        return conn

    def request(self, method, url, body=None, headers=None, sink=False, redirects=3):
        """(status, headers, body bytes or byte count when sink)."""
        split = urllib.parse.urlsplit(url)
        path = split.path + ('?' + split.query if split.query else '')
        all_headers = dict(self.headers, **(headers or {}))
        for attempt in (1, 2):
            conn = self._conn(split.netloc)
            try:
                conn.request(method, path, body=body, headers=all_headers)
                resp = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self.conns.pop(split.netloc, None)
                if attempt == 2 or (body is not None and not isinstance(body, bytes)):
                    raise
        if sink:
            count = 0
            while True:
                chunk = resp.read(MiB)
                if not chunk:
                    break
                count += len(chunk)
            data = count
        else:
            data = resp.read()
        if resp.getheader('Connection', '').lower() == 'close':
            conn.close()
            self.conns.pop(split.netloc, None)
        if resp.status in (301, 302, 303, 307) and redirects:
            location = urllib.parse.urljoin(url, resp.getheader('Location'))
            return self.request('GET' if method == 'GET' else method, location,
                                headers={k: v for k, v in (headers or {}).items()
                                         if k.lower() in ('range',)},
                                sink=sink, redirects=redirects - 1)
        return resp.status, dict(resp.getheaders()), data

    def json(self, method, url, payload=None, expect=(200, 201)):
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {'Content-Type': 'application/json'} if body is not None else {}
        status, _, data = self.request(method, url, body, headers)
        if status not in expect:
            raise RuntimeError('%s %s: %d %s' % (method, url, status, data[:300]))
        return json.loads(data) if data else None

    def close(self):
        for conn in self.conns.values():
            conn.close()


def run_clients(n_clients, n_requests, deadline_s, work, headers):
    """Call work(client, i) n_requests times over n_clients threads, bounded in time.

    Returns (latencies in seconds, elapsed seconds, errors).
    """
    lock = threading.Lock()
    counter = iter(range(n_requests))
    latencies, errors = [], []
    stop_at = time.monotonic() + deadline_s

    def worker():
        client = Client(headers)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.monotonic()
                try:
                    work(client, i)
                except Exception as e:  # counted, reported
                    errors.append(repr(e)[:200])
                    continue
                with lock:
                    latencies.append(time.monotonic() - t0)
        finally:
            client.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.monotonic() - t0, errors


# --- servers --------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_http(url, proc, log, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('%s exited; end of %s:\n%s' % (url, log, _tail(log)))
        try:
            c = http.client.HTTPConnection('127.0.0.1', urllib.parse.urlsplit(url).port,
                                           timeout=2)
            c.request('GET', urllib.parse.urlsplit(url).path or '/')
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError('%s did not answer in %ds; end of %s:\n%s'
                       % (url, timeout, log, _tail(log)))


def _tail(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()[-3000:]
    except OSError:
        return ''


def start(cmd, log, env=None, cwd=None):
    with open(log, 'ab') as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def write(path, text):
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text).lstrip())


def write_ini(path, sections):
    with open(path, 'w') as f:
        for section, options in sections.items():
            f.write('[%s]\n' % section)
            for key, value in options.items():
                f.write('%s = %s\n' % (key, value))


class _Process:
    """A server that is one process tree under ``self.proc``."""

    proc = None

    @property
    def pids(self):
        return [self.proc.pid]

    def stop(self):
        stop(self.proc)

    def store_path(self, image_id):
        return os.path.join(self.store, image_id)


class Ours(_Process):
    """glance-api and glance-stream, 2 workers each.

    ``store`` replaces the file store: (backend type, {its options}); ``api_extra`` adds
    sections to glance-api's configuration.
    """

    def __init__(self, work, python, name='ours', store=None, api_extra=None, root=ROOT,
                 without_cache=False):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.python = python
        self.root = root  # another checkout (an earlier commit) for before/after figures
        self.api_port, self.stream_port = free_port(), free_port()
        self.url = 'http://127.0.0.1:%d' % self.api_port
        self.store = os.path.join(self.dir, 'images')
        self.cache = os.path.join(self.dir, 'cache')
        kind, options = store or ('file', {'filesystem_store_datadir': self.store})
        key = os.urandom(32).hex()
        paste = {svc: '%s/etc/glance-%s-paste.ini' % (root, svc) for svc in ('api', 'stream')}
        if without_cache:  # the cache filter deleted from the pipeline: a node without cache
            with open(paste['stream']) as f:
                text = f.read().replace(' cache reader', ' reader')
            paste['stream'] = os.path.join(self.dir, 'glance-stream-paste.ini')
            with open(paste['stream'], 'w') as f:
                f.write(text)
        for svc, port in (('api', self.api_port), ('stream', self.stream_port)):
            sections = {
                'DEFAULT': {'bind_host': '127.0.0.1', 'bind_port': port, 'workers': 2,
                            'state_path': self.dir + '/state',
                            'enabled_backends': 'objects:' + kind,
                            'log_file': '%s/glance-%s.log' % (self.dir, svc)},
                'paste_deploy': {'flavor': 'noauth', 'config_file': paste[svc]},
                'database': {'connection': 'sqlite:///%s/glance.sqlite' % self.dir},
                'glance_store': {'default_backend': 'objects'},
                'objects': options,
                'stream': {'endpoints': 'http://127.0.0.1:%d' % self.stream_port,
                           'ticket_key': key},
                'cache': {'directory': self.cache, 'max_size': 3 * GiB,
                          'max_image_share': 0.9, 'metrics_log_interval': 0},
            }
            if svc == 'api':
                sections.update(api_extra or {})
            write_ini(os.path.join(self.dir, 'glance-%s.conf' % svc), sections)
        conf = os.path.join(self.dir, 'glance-api.conf')
        subprocess.run([python, '-m', 'glance.cmd.manage', '--config-file', conf, 'db',
                        'sync'], check=True, capture_output=True, cwd=root)
        self.procs = {}

    def start(self):
        for svc in ('stream', 'api'):
            conf = os.path.join(self.dir, 'glance-%s.conf' % svc)
            log = os.path.join(self.dir, '%s.out' % svc)
            self.procs[svc] = start([self.python, '-m', 'glance.cmd.%s' % svc,
                                     '--config-file', conf], log, cwd=self.root)
            port = self.api_port if svc == 'api' else self.stream_port
            wait_http('http://127.0.0.1:%d/healthcheck' % port, self.procs[svc], log)

    @property
    def pids(self):
        return [p.pid for p in self.procs.values()]

    @property
    def stream_pids(self):
        return [self.procs['stream'].pid]

    def stop(self):
        for proc in self.procs.values():
            stop(proc)

    def evict(self, image_id):
        subprocess.run([self.python, '-m', 'glance.cmd.manage', '--config-file',
                        os.path.join(self.dir, 'glance-api.conf'), 'cache', 'evict',
                        image_id], check=True, capture_output=True, cwd=self.root)


class Upstream(_Process):
    name = 'upstream'

    def __init__(self, work, venv):
        self.dir = os.path.join(work, 'upstream')
        os.makedirs(self.dir)
        self.venv = venv
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.store = os.path.join(self.dir, 'images')
        for sub in ('images', 'staging', 'tasks'):
            os.makedirs(os.path.join(self.dir, sub))
        write(os.path.join(self.dir, 'glance-api.conf'), """
            [DEFAULT]
            enabled_backends = local:file
            log_file = %(dir)s/glance-api.log
            worker_self_reference_url = %(url)s
            enabled_import_methods = []
            [paste_deploy]
            flavor =
            config_file = %(dir)s/glance-api-paste.ini
            [database]
            connection = sqlite:///%(dir)s/glance.sqlite
            [glance_store]
            default_backend = local
            [local]
            filesystem_store_datadir = %(store)s
            [os_glance_staging_store]
            filesystem_store_datadir = %(dir)s/staging
            [os_glance_tasks_store]
            filesystem_store_datadir = %(dir)s/tasks
            [oslo_policy]
            policy_file = %(dir)s/policy.yaml
            enforce_scope = false
            enforce_new_defaults = false
            """ % {'dir': self.dir, 'url': self.url, 'store': self.store})
        shutil.copy(os.path.join(venv, 'etc', 'glance', 'glance-api-paste.ini'), self.dir)
        # Its standalone (empty flavor) context has no roles and no project: open every rule.
        py = os.path.join(venv, 'bin', 'python')
        subprocess.run([py, '-c', textwrap.dedent("""
            import sys
            from glance.policies import list_rules
            with open(sys.argv[1], 'w') as f:
                for rule in list_rules():
                    f.write('"%s": ""\\n' % rule.name)
            """), os.path.join(self.dir, 'policy.yaml')], check=True)
        subprocess.run([os.path.join(venv, 'bin', 'glance-manage'), '--config-file',
                        os.path.join(self.dir, 'glance-api.conf'), 'db_sync'], check=True,
                       capture_output=True)
        write(os.path.join(self.dir, 'uwsgi.ini'), """
            [uwsgi]
            http-socket = 127.0.0.1:%(port)d
            module = glance.wsgi.api:application
            processes = 2
            threads = 1
            master = true
            lazy-apps = true
            die-on-term = true
            enable-threads = true
            http-auto-chunked = true
            http-raw-body = true
            chunked-input-limit = 4096000
            buffer-size = 65535
            add-header = Connection: close
            """ % {'port': self.port})

    def start(self):
        log = os.path.join(self.dir, 'uwsgi.out')
        # cwd: its own directory, so that this tree's glance package is not on its path
        cmd = [os.path.join(self.venv, 'bin', 'uwsgi'), '--ini',
               os.path.join(self.dir, 'uwsgi.ini')]
        self.proc = start(cmd, log, cwd=self.dir,
                          env=dict(os.environ, OS_GLANCE_CONFIG_DIR=self.dir))
        wait_http(self.url + '/versions', self.proc, log)


class Nginx(_Process):
    name = 'nginx'

    def __init__(self, work, root):
        self.dir = os.path.join(work, 'nginx')
        os.makedirs(os.path.join(self.dir, 'logs'))
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        write(os.path.join(self.dir, 'nginx.conf'), """
            user root;
            worker_processes 2;
            pid %(dir)s/nginx.pid;
            error_log %(dir)s/logs/error.log;
            daemon off;
            events { worker_connections 1024; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 100000;
                client_body_temp_path %(dir)s/body;
                proxy_temp_path %(dir)s/proxy;
                fastcgi_temp_path %(dir)s/fastcgi;
                uwsgi_temp_path %(dir)s/uwsgi;
                scgi_temp_path %(dir)s/scgi;
                server {
                    listen 127.0.0.1:%(port)d;
                    root %(root)s;
                    location / { default_type application/octet-stream; }
                }
            }
            """ % {'dir': self.dir, 'port': self.port, 'root': root})

    def start(self):
        log = os.path.join(self.dir, 'nginx.out')
        self.proc = start(['nginx', '-p', self.dir, '-c', os.path.join(self.dir, 'nginx.conf')],
                          log)
        wait_http(self.url + '/', self.proc, log)


# --- counting backend reads ----------------------------------------------------------------

class FileOpens:
    """Counts opens of one file by a server's processes, with strace.

    Exact: one line per openat call (inotify would merge identical successive events).
    Timings taken while it runs are slowed by it.
    """

    def __init__(self, pids, path, log):
        self.path, self.log = path, log
        cmd = ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', log]
        for pid in tree(pids):
            cmd += ['-p', str(pid)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached

    def count(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)
        with open(self.log, errors='replace') as f:
            return sum(1 for line in f if '"%s"' % self.path in line and 'ENOENT' not in line)


# --- the workload ---------------------------------------------------------------------------

class Bench:

    def __init__(self, args):
        self.args = args
        self.results = []
        ours = {'X-Roles': 'admin,member,reader,service', 'X-Project-Id': 'bench'}
        self.headers = {'ours': ours, 'ours-s3': ours, 'upstream': {}, 'nginx': {},
                        'before': ours, 'no-cache': ours}

    def record(self, phase, server, meter, n, unit, latencies=None, nbytes=None,
               errors=None, **extra):
        entry = {'phase': phase, 'server': server, 'count': n, 'wall_s': round(meter.wall, 3),
                 'cpu_s': round(meter.cpu, 3), 'peak_pss_mib': round(meter.peak / MiB, 1),
                 'errors': len(errors or [])}
        if unit == 'request':
            entry['req_per_s'] = round(n / meter.wall, 1) if meter.wall else None
            entry['cpu_ms_per_req'] = round(1000 * meter.cpu / n, 3) if n else None
        if nbytes is not None:
            entry['mib_per_s'] = round(nbytes / MiB / meter.wall, 1)
            entry['cpu_s_per_gib'] = round(meter.cpu / (nbytes / GiB), 3) if nbytes else None
        if latencies:
            entry['p50_ms'] = round(1000 * percentile(latencies, 50), 2)
            entry['p99_ms'] = round(1000 * percentile(latencies, 99), 2)
        if errors:
            entry['first_error'] = errors[0]
        entry.update(extra)
        self.results.append(entry)
        print('  %-28s %-9s %s' % (phase, server, json.dumps(
            {k: v for k, v in entry.items() if k not in ('phase', 'server')})), flush=True)
        return entry

    # metadata

    def create_body(self, i):
        return {'name': 'bench-%d' % i, 'disk_format': 'raw', 'container_format': 'bare'}

    def phase_metadata(self, server):
        h = self.headers[server.name]
        n_seq, n_par = self.args.creates_sequential, self.args.creates_parallel

        def create(client, i):
            client.json('POST', server.url + '/v2/images', self.create_body(i))

        with Meter(server.pids) as m:
            lat, _, err = run_clients(1, n_seq, 60, create, h)
        self.record('create (1 client)', server.name, m, len(lat), 'request', lat, errors=err)
        with Meter(server.pids) as m:
            lat, _, err = run_clients(16, n_par, 120, create, h)
        self.record('create (16 clients)', server.name, m, len(lat), 'request', lat,
                    errors=err)
        ids = []
        client = Client(h)
        url = server.url + '/v2/images?limit=1000'
        while url and len(ids) < 3000:
            body = client.json('GET', url)
            ids.extend(i['id'] for i in body['images'])
            url = server.url + body['next'] if body.get('next') else None
        client.close()

        def listing(client, i):
            status, _, _ = client.request('GET', server.url + '/v2/images')
            assert status == 200, status

        with Meter(server.pids) as m:
            lat, _, err = run_clients(16, self.args.lists, 120, listing, h)
        self.record('list (16 clients)', server.name, m, len(lat), 'request', lat,
                    errors=err, images=len(ids))

        def show(client, i):
            status, _, _ = client.request('GET', server.url + '/v2/images/' + ids[i % len(ids)])
            assert status == 200, status

        with Meter(server.pids) as m:
            lat, _, err = run_clients(16, self.args.shows, 120, show, h)
        self.record('show (16 clients)', server.name, m, len(lat), 'request', lat, errors=err)

    # data

    def upload(self, server, path, chunked):
        client = Client(self.headers[server.name])
        image = client.json('POST', server.url + '/v2/images', self.create_body(0))
        size = os.path.getsize(path)
        with open(path, 'rb') as f:
            if chunked:
                body = iter(lambda: f.read(MiB), b'')
                headers = {'Content-Type': 'application/octet-stream',
                           'Transfer-Encoding': 'chunked'}
                conn = http.client.HTTPConnection('127.0.0.1',
                                                  urllib.parse.urlsplit(server.url).port,
                                                  timeout=600, blocksize=MiB)
                hdrs = dict(self.headers[server.name], **headers)
                conn.request('PUT', '/v2/images/%s/file' % image['id'], body=body,
                             headers=hdrs, encode_chunked=True)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                conn.close()
            else:
                status, _, data = client.request(
                    'PUT', server.url + '/v2/images/%s/file' % image['id'], body=f,
                    headers={'Content-Type': 'application/octet-stream',
                             'Content-Length': str(size)})
        client.close()
        if status != 204:
            raise RuntimeError('upload to %s: %d' % (server.name, status))
        return image['id']

    def phase_upload(self, server, path):
        size = os.path.getsize(path)
        ids = {}
        repeat = self.args.upload_repeat  # one upload is one noisy sample
        for chunked in (False, True):
            label = 'upload 1 GiB (%s)' % ('1 MiB chunks' if chunked else 'Content-Length')
            lat = []
            with Meter(server.pids) as m:
                for _ in range(repeat):
                    t0 = time.monotonic()
                    ids[chunked] = self.upload(server, path, chunked)
                    lat.append(time.monotonic() - t0)
            self.record(label, server.name, m, repeat, 'transfer', lat, nbytes=size * repeat)
        client = Client(self.headers[server.name])
        shown = client.json('GET', server.url + '/v2/images/' + ids[False])
        client.close()
        with open(path + '.sha512') as f:
            assert shown['os_hash_value'] == f.read().strip(), 'upload hash mismatch'
        return ids[False]

    def download(self, server, url, n, label, nbytes_each, pids=None, repeat=1):
        """n concurrent clients, each downloading ``repeat`` times in a row."""
        h = self.headers.get(server, {})

        def get(client, i):
            status, _, count = client.request('GET', url, sink=True)
            assert status == 200 and count == nbytes_each, (status, count)

        with Meter(pids) as m:
            lat, _, err = run_clients(n, n * repeat, 300, get, h)
        return self.record(label, server, m, len(lat), 'transfer', lat,
                           nbytes=nbytes_each * len(lat), errors=err)

    def phase_download(self, ours, upstream, nginx, ids, size):
        rows = {}
        ours_url = '%s/v2/images/%s/file' % (ours.url, ids['ours'])
        ours.evict(ids['ours'])
        rows['ours cold'] = self.download('ours', ours_url, 1, 'download cold (1)', size,
                                          ours.pids)
        # The fill just wrote the cache file; nginx serves a file written minutes ago. Both
        # hit phases read a file at rest, not one whose pages are still being written back.
        os.sync()
        rows['ours warm'] = self.download('ours', ours_url, 1, 'download warm (1)', size,
                                          ours.pids, repeat=3)
        rows['ours warm 8'] = self.download('ours', ours_url, 8, 'download warm (8)', size,
                                            ours.pids)
        up_url = '%s/v2/images/%s/file' % (upstream.url, ids['upstream'])
        rows['upstream'] = self.download('upstream', up_url, 1, 'download (1)', size,
                                         upstream.pids, repeat=3)
        rows['upstream 8'] = self.download('upstream', up_url, 8, 'download (8)', size,
                                           upstream.pids)
        ng_url = '%s/%s' % (nginx.url, ids['ours'])
        rows['nginx'] = self.download('nginx', ng_url, 1, 'download (1)', size, nginx.pids,
                                      repeat=3)
        rows['nginx 8'] = self.download('nginx', ng_url, 8, 'download (8)', size, nginx.pids)
        return rows

    def phase_verified_reads(self, server, image_id, size):
        """A node without a cache: every read verified by pieces from the store."""
        url = '%s/v2/images/%s/file' % (server.url, image_id)
        self.download(server.name, url, 1, 'download verified, no cache (1)', size,
                      server.pids, repeat=3)
        self.phase_ranges(server.name, url, size, server.pids, self.args.ranges,
                          label='range 1 MiB verified, no cache (8)')

    def phase_cold(self, server, image_id, size, repeat=2):
        """Cold downloads (store read, verification, cache fill), the cache evicted before each."""
        url = '%s/v2/images/%s/file' % (server.url, image_id)
        lat = []
        h = self.headers[server.name]
        with Meter(server.pids) as m:
            for _ in range(repeat):
                server.evict(image_id)
                t0 = time.monotonic()
                client = Client(h)
                status, _, count = client.request('GET', url, sink=True)
                client.close()
                assert status == 200 and count == size, (status, count)
                lat.append(time.monotonic() - t0)
        # the evictions are in the meter's wall time: take the transfer time alone
        entry = self.record('download cold verified (1)', server.name, m, repeat, 'transfer',
                            lat, nbytes=size * repeat)
        entry['mib_per_s'] = round(size * repeat / MiB / sum(lat), 1)
        return entry

    def phase_eviction(self):
        path = os.path.join(self.args.work, 'eviction.json')
        subprocess.run([self.args.python, os.path.join(ROOT, 'tools', 'bench', 'eviction.py'),
                        '--json', path], check=True, cwd=ROOT)
        with open(path) as f:
            for r in json.load(f):
                self.results.append({'phase': 'cache hit ratio (Zipf, 15%% cache)',
                                     'server': 'ours-%s' % r['policy'], 'count': 0,
                                     'hit_ratio': r['hit_ratio'],
                                     'byte_hit_ratio': r['byte_hit_ratio']})

    def phase_herd(self, server, path):
        """50 concurrent downloads of a fresh image; backend opens counted with inotify."""
        image_id = self.upload(server, path, False)
        size = os.path.getsize(path)
        opens = FileOpens(server.pids, server.store_path(image_id),
                          os.path.join(self.args.work, 'strace-%s.log' % server.name))
        try:
            entry = self.download(server.name, '%s/v2/images/%s/file' % (server.url, image_id),
                                  50, '50 cold downloads (under strace)', size, server.pids)
        finally:
            entry['backend_reads'] = opens.count()
        print('    backend reads: %d' % entry['backend_reads'])
        return entry

    def phase_ranges(self, name, url, size, pids, n, label='range 1 MiB (8 clients)'):
        rng = random.Random(7)
        offsets = [rng.randrange(0, size - MiB) for _ in range(n)]

        def get(client, i):
            headers = {'Range': 'bytes=%d-%d' % (offsets[i], offsets[i] + MiB - 1)}
            status, _, count = client.request('GET', url, headers=headers, sink=True)
            assert status == 206 and count == MiB, (status, count)

        with Meter(pids) as m:
            lat, _, err = run_clients(8, n, 120, get, self.headers.get(name, {}))
        return self.record(label, name, m, len(lat), 'request', lat,
                           nbytes=MiB * len(lat), errors=err)

    def phase_direct_links(self, ours, image_id, label):
        """Link issue latency; every answer must be a link (200), never a refusal."""
        url = '%s/v2/images/%s/direct-link' % (ours.url, image_id)

        def get(client, i):
            status, _, body = client.request('GET', url, redirects=0)
            assert status == 200, (status, body[:200])

        headers = dict(self.headers['ours'], **{'X-Roles': 'service'})
        with Meter(ours.pids) as m:
            lat, _, err = run_clients(16, self.args.direct_links, 60, get, headers)
        client = Client(headers)
        link = client.json('GET', url)
        client.close()
        return self.record('direct-link issue, %s (16 clients)' % label, ours.name, m,
                           len(lat), 'request', lat, errors=err, link_store=link['store'])

    def phase_s3_direct_links(self, s3_env, path):
        """The same against an S3 backend (SeaweedFS): presigning is the work there."""
        store = {'s3_store_host': s3_env['S3_ENDPOINT'],
                 's3_store_access_key': s3_env['S3_ACCESS_KEY'],
                 's3_store_secret_key': s3_env['S3_SECRET_KEY'],
                 's3_store_bucket': s3_env['S3_BUCKETS'].split()[0],
                 's3_store_create_bucket_on_put': 'false',
                 's3_store_bucket_url_format': 'path',
                 's3_store_region_name': s3_env.get('S3_REGION', 'us-east-1')}
        ours = Ours(self.args.work, self.args.python, name='ours-s3', store=('s3', store),
                    api_extra={'direct_link': {
                        's3_access_key': s3_env['S3_RO_ACCESS_KEY'],
                        's3_secret_key': s3_env['S3_RO_SECRET_KEY']}})
        ours.start()
        try:
            image_id = self.upload(ours, path, False)
            entry = self.phase_direct_links(ours, image_id, 'S3')
            client = Client(dict(self.headers['ours'], **{'X-Roles': 'service'}))
            link = client.json('GET', '%s/v2/images/%s/direct-link' % (ours.url, image_id))
            status, _, count = client.request('GET', link['url'], sink=True)
            client.close()
            assert status == 200 and count == os.path.getsize(path), (status, count)
            return entry
        finally:
            ours.stop()

    def phase_stream_rss(self, ours, image_id, size, big_path):
        """glance-stream's memory while it streams from the backend.

        Four cold downloads of the 1 GiB image (each a cache fill: backend, verify, cache
        file, client), then one download of a 4 GiB image, which is larger than the cache's
        share and streams straight from the backend to the client.
        """
        url = '%s/v2/images/%s/file' % (ours.url, image_id)
        total = 0
        with Meter(ours.stream_pids) as m:
            for _ in range(4):
                ours.evict(image_id)
                client = Client(self.headers['ours'])
                status, _, count = client.request('GET', url, sink=True)
                client.close()
                assert status == 200 and count == size
                total += count
        self.record('4 x 1 GiB cold fills', 'ours', m, 4, 'transfer', nbytes=total,
                    worker_rss_peak_mib=round(m.peak_proc / MiB, 1),
                    worker_rss_growth_mib=round(m.growth_proc / MiB, 1))
        big_id = self.upload(ours, big_path, False)
        big_size = os.path.getsize(big_path)
        with Meter(ours.stream_pids) as m:
            client = Client(self.headers['ours'])
            status, headers, count = client.request(
                'GET', '%s/v2/images/%s/file' % (ours.url, big_id), sink=True)
            client.close()
            assert status == 200 and count == big_size, (status, count)
        return self.record('stream a 4 GiB image', 'ours', m, 1, 'transfer', nbytes=big_size,
                           source=headers.get('X-Image-Cache'),
                           worker_rss_peak_mib=round(m.peak_proc / MiB, 1),
                           worker_rss_growth_mib=round(m.growth_proc / MiB, 1))


def read_env(path):
    """The variables of a service script's env file (export NAME=value lines)."""
    values = {}
    with open(path) as f:
        for line in f:
            if line.startswith('export ') and '=' in line:
                name, _, value = line[len('export '):].strip().partition('=')
                values[name] = ' '.join(shlex.split(value))
    return values


def make_image_file(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size and os.path.exists(
            path + '.sha512'):
        return
    digest = hashlib.sha512()
    with open(path, 'wb') as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 16 * MiB))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    with open(path + '.sha512', 'w') as f:
        f.write(digest.hexdigest())


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def summarize(results):
    """The goals of the issue, each with the figures behind it."""
    def find(phase, server):
        for r in results:
            if r['phase'] == phase and r['server'] == server:
                return r
        return {}

    goals = []
    for phase in ('create (1 client)', 'create (16 clients)', 'list (16 clients)',
                  'show (16 clients)'):
        ours, up = find(phase, 'ours'), find(phase, 'upstream')
        goals.append({'goal': '%s: >= 3x upstream req/s' % phase,
                      'value': ratio(ours.get('req_per_s'), up.get('req_per_s')),
                      'target': 3.0, 'higher_is_better': True})
        goals.append({'goal': '%s: <= 1/3 upstream CPU per request' % phase,
                      'value': ratio(ours.get('cpu_ms_per_req'), up.get('cpu_ms_per_req')),
                      'target': 0.33, 'higher_is_better': False})
    for label in ('upload 1 GiB (Content-Length)', 'upload 1 GiB (1 MiB chunks)'):
        goals.append({'goal': '%s: >= 2x upstream MiB/s' % label,
                      'value': ratio(find(label, 'ours').get('mib_per_s'),
                                     find(label, 'upstream').get('mib_per_s')),
                      'target': 2.0, 'higher_is_better': True})
    for ours_phase, ng_phase in (('download warm (1)', 'download (1)'),
                                 ('download warm (8)', 'download (8)')):
        ours, ng = find(ours_phase, 'ours'), find(ng_phase, 'nginx')
        goals.append({'goal': 'cache hit %s: >= 0.9x nginx MiB/s' % ng_phase,
                      'value': ratio(ours.get('mib_per_s'), ng.get('mib_per_s')),
                      'target': 0.9, 'higher_is_better': True})
        goals.append({'goal': 'cache hit %s: <= 1.5x nginx CPU per GiB' % ng_phase,
                      'value': ratio(ours.get('cpu_s_per_gib'), ng.get('cpu_s_per_gib')),
                      'target': 1.5, 'higher_is_better': False})
    for label in ('upload 1 GiB (Content-Length)', 'upload 1 GiB (1 MiB chunks)'):
        before, now = find(label, 'before'), find(label, 'ours')
        if before:
            goals.append({'goal': '%s with piece hashes: >= 0.9x before MiB/s' % label,
                          'value': ratio(now.get('mib_per_s'), before.get('mib_per_s')),
                          'target': 0.9, 'higher_is_better': True})
    goals.append({'goal': 'cold verified download: >= 1000 MiB/s',
                  'value': find('download cold verified (1)', 'ours').get('mib_per_s'),
                  'target': 1000, 'higher_is_better': True})
    herd = find('50 cold downloads (under strace)', 'ours')
    goals.append({'goal': '50 concurrent cold downloads: 1 backend read',
                  'value': herd.get('backend_reads'), 'target': 1,
                  'higher_is_better': False})
    rss = find('stream a 4 GiB image', 'ours')
    goals.append({'goal': 'glance-stream worker peak RSS streaming a 4 GiB image <= 150 MiB',
                  'value': rss.get('worker_rss_peak_mib'), 'target': 150,
                  'higher_is_better': False})
    for g in goals:
        v = g['value']
        g['met'] = None if v is None else (v >= g['target'] if g['higher_is_better']
                                           else v <= g['target'])
    return goals


def table(results, goals):
    lines = []
    cols = ('phase', 'server', 'count', 'req_per_s', 'mib_per_s', 'p50_ms', 'p99_ms',
            'cpu_ms_per_req', 'cpu_s_per_gib', 'peak_pss_mib', 'errors', 'hit_ratio',
            'byte_hit_ratio')
    heads = ('phase', 'server', 'n', 'req/s', 'MiB/s', 'p50 ms', 'p99 ms', 'CPU ms/req',
             'CPU s/GiB', 'peak PSS MiB', 'err', 'hits', 'byte hits')
    rows = [heads] + [tuple('' if r.get(c) is None else str(r.get(c)) for c in cols)
                      for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    sep = '  '.join('=' * w for w in widths)
    lines.append(sep)
    lines.append('  '.join(h.ljust(w) for h, w in zip(heads, widths)))
    lines.append(sep)
    for row in rows[1:]:
        lines.append('  '.join(v.ljust(w) for v, w in zip(row, widths)))
    lines.append(sep)
    lines.append('')
    gw = max(len(g['goal']) for g in goals)
    gsep = '%s  %s  %s  %s' % ('=' * gw, '=' * 8, '=' * 8, '=' * 6)
    lines += [gsep, '%s  %s  %s  %s' % ('goal'.ljust(gw), 'measured', 'target  ', 'met'),
              gsep]
    for g in goals:
        lines.append('%s  %s  %s  %s' % (g['goal'].ljust(gw), str(g['value']).ljust(8),
                                         str(g['target']).ljust(8),
                                         {True: 'yes', False: 'NO', None: '?'}[g['met']]))
    lines.append(gsep)
    return '\n'.join(lines)


def data_only(args, path):
    """Upload and cold download of this checkout and of --baseline-root, rounds interleaved.

    On a machine that other work shares, interleaving makes both sides see the same noise;
    the table gives each side's median round.
    """
    size = os.path.getsize(path)
    bench = Bench(args)
    servers = [Ours(args.work, args.python, name='ours')]
    if args.baseline_root:
        servers.append(Ours(args.work, args.python, name='before', root=args.baseline_root))
    started = time.monotonic()
    try:
        for server in servers:
            server.start()
        for n in range(args.rounds):
            print('Round %d of %d' % (n + 1, args.rounds), flush=True)
            for server in servers:
                image_id = bench.phase_upload(server, path)
                bench.phase_cold(server, image_id, size)
    finally:
        for server in servers:
            server.stop()
    rows = {}
    for entry in bench.results:
        rows.setdefault((entry['phase'], entry['server']), []).append(entry)
    print('\n%-36s %-8s %10s %12s' % ('median of %d rounds' % args.rounds, '', 'MiB/s',
                                      'CPU-s/GiB'))
    for (phase, server), entries in rows.items():
        mid = sorted(entries, key=lambda e: e['mib_per_s'])[len(entries) // 2]
        print('%-36s %-8s %10.1f %12.3f' % (phase, server, mid['mib_per_s'],
                                            mid['cpu_s_per_gib']))
    with open(args.output, 'w') as f:
        json.dump({'date': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()),
                   'load_average': os.getloadavg(), 'results': bench.results,
                   'duration_s': round(time.monotonic() - started, 1)}, f, indent=2)
    print('JSON: %s' % args.output)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--upstream-venv', required=True)
    parser.add_argument('--python', default=sys.executable)
    parser.add_argument('--work', required=True)
    parser.add_argument('--output', required=True)
    parser.add_argument('--image-size', type=int, default=GiB)
    parser.add_argument('--herd-size', type=int, default=64 * MiB)
    parser.add_argument('--upload-repeat', type=int, default=2)
    parser.add_argument('--stream-size', type=int, default=4 * GiB)
    parser.add_argument('--creates-sequential', type=int, default=300)
    parser.add_argument('--creates-parallel', type=int, default=2000)
    parser.add_argument('--lists', type=int, default=1000)
    parser.add_argument('--shows', type=int, default=2000)
    parser.add_argument('--ranges', type=int, default=400)
    parser.add_argument('--direct-links', type=int, default=1000)
    parser.add_argument('--baseline-root', help='a checkout of an earlier commit: its upload '
                        'and cold download are measured too ("before")')
    parser.add_argument('--s3-env', help='env file of tools/test-services/s3-start.sh: also '
                        'measure direct links on S3')
    parser.add_argument('--data-only', action='store_true',
                        help='only the data path of this project (uploads, cold and verified '
                             'reads, and those of --baseline-root), rounds interleaved: a '
                             'quick before/after of a change to it, without upstream or nginx')
    parser.add_argument('--rounds', type=int, default=3,
                        help='with --data-only: rounds of (ours, before) measurements')
    args = parser.parse_args()

    if os.path.exists(args.work):
        shutil.rmtree(args.work)
    os.makedirs(args.work)
    data_dir = os.path.join(os.path.dirname(args.work.rstrip('/')), 'data')
    os.makedirs(data_dir, exist_ok=True)
    big = os.path.join(data_dir, 'image-%d.bin' % args.image_size)
    herd = os.path.join(data_dir, 'image-%d.bin' % args.herd_size)
    huge = os.path.join(data_dir, 'image-%d.bin' % args.stream_size)
    print('Preparing %d MiB, %d MiB and %d MiB image files...' % (
        args.image_size // MiB, args.herd_size // MiB, args.stream_size // MiB), flush=True)
    make_image_file(big, args.image_size)
    make_image_file(herd, args.herd_size)
    make_image_file(huge, args.stream_size)

    if args.data_only:
        return data_only(args, big)
    ours = Ours(args.work, args.python,
                api_extra={'direct_link': {'file_clients': '127.0.0.0/8'}})
    upstream = Upstream(args.work, args.upstream_venv)
    bench = Bench(args)
    started = time.monotonic()
    try:
        ours.start()
        upstream.start()
        print('ours: %s   upstream: %s' % (ours.url, upstream.url), flush=True)
        print('Metadata', flush=True)
        for server in (upstream, ours):
            bench.phase_metadata(server)
        print('Upload', flush=True)
        ids = {}
        for server in (upstream, ours):
            ids[server.name] = bench.phase_upload(server, big)
        print('Cold verified downloads', flush=True)
        bench.phase_cold(ours, ids['ours'], args.image_size)
        if args.baseline_root:
            before = Ours(args.work, args.python, name='before', root=args.baseline_root)
            try:
                before.start()
                ids['before'] = bench.phase_upload(before, big)
                bench.phase_cold(before, ids['before'], args.image_size)
            finally:
                before.stop()
        no_cache = Ours(args.work, args.python, name='no-cache', without_cache=True)
        try:
            no_cache.start()
            bench.phase_verified_reads(no_cache, bench.upload(no_cache, big, False),
                                       args.image_size)
        finally:
            no_cache.stop()
        nginx = Nginx(args.work, ours.store)
        nginx.start()
        try:
            print('Download', flush=True)
            bench.phase_download(ours, upstream, nginx, ids, args.image_size)
            print('Range reads', flush=True)
            bench.phase_ranges('ours', '%s/v2/images/%s/file' % (ours.url, ids['ours']),
                               args.image_size, ours.pids, args.ranges)
            bench.phase_ranges('upstream', '%s/v2/images/%s/file' % (upstream.url,
                                                                     ids['upstream']),
                               args.image_size, upstream.pids, args.ranges)
            bench.phase_ranges('nginx', '%s/%s' % (nginx.url, ids['ours']), args.image_size,
                               nginx.pids, args.ranges)
        finally:
            nginx.stop()
        print('50 concurrent cold downloads', flush=True)
        bench.phase_herd(ours, herd)
        bench.phase_herd(upstream, herd)
        print('Direct links', flush=True)
        bench.phase_direct_links(ours, ids['ours'], 'file')
        if args.s3_env:
            bench.phase_s3_direct_links(read_env(args.s3_env), herd)
        print('glance-stream RSS', flush=True)
        bench.phase_stream_rss(ours, ids['ours'], args.image_size, huge)
        print('Eviction policies', flush=True)
        bench.phase_eviction()
    finally:
        ours.stop()
        upstream.stop()
    goals = summarize(bench.results)
    report = {'date': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()),
              'machine': {'cpus': os.cpu_count(), 'kernel': os.uname().release},
              'upstream': subprocess.run(
                  [os.path.join(args.upstream_venv, 'bin', 'python'), '-c',
                   'import importlib.metadata as m; print(m.version("glance"))'],
                  capture_output=True, text=True).stdout.strip(),
              'duration_s': round(time.monotonic() - started, 1),
              'results': bench.results, 'goals': goals}
    with open(args.output, 'w') as f:
        json.dump(report, f, indent=2)
    print()
    print(table(bench.results, goals))
    print('\nJSON: %s (%.0f s)' % (args.output, report['duration_s']))


if __name__ == '__main__':
    main()
