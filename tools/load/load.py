"""Bounded load against a running glance-api (and the glance-stream it redirects to).

N client threads, each on its own keep-alive connection, run a mix of calls for T seconds:
show, list, create (then delete), upload (create, PUT data, delete) and download (GET the
data of images uploaded at start, following the redirect to glance-stream). At the end it
prints, per call, the count, errors (status >= 400 or a broken connection, with the first
few reasons), throughput and p50/p99 latency, and the resident memory (RSS) of the servers'
processes before and after. Everything is bounded: ``--clients`` at most 256, ``--duration``
at most 600 s, ``--size`` at most 64 MiB, and every request has a timeout.

    tools/load/load.py --api http://127.0.0.1:9292 --clients 16 --duration 30 \\
        --pidfile .quickstart/glance-api.pid --pidfile .quickstart/glance-stream.pid

Standalone deployments (noauth flavor) need nothing more; with Keystone pass ``--token``.
Only stdlib: it runs from any Python 3.8+, inside or outside the project's virtualenv.
"""

import argparse
import collections
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse

OPS = ('show', 'list', 'create', 'upload', 'download')
MiB = 1024 * 1024
PAGE = os.sysconf('SC_PAGE_SIZE')


# --- servers' memory ------------------------------------------------------------------------

def _group_pids(pgid):
    """Every live process of process group ``pgid`` (a server and its workers)."""
    pids = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != 'Z':
                pids.append(int(name))
    return sorted(pids)


def _rss(pid):
    try:
        with open('/proc/%d/statm' % pid) as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


def memory(groups):
    """{pidfile or pid: {pid: rss bytes}} for each server named on the command line."""
    return {name: {pid: _rss(pid) for pid in _group_pids(pgid)} for name, pgid in groups}


# --- a client -------------------------------------------------------------------------------

class Client:
    """One keep-alive connection per host, reopened after an error."""

    def __init__(self, headers, timeout):
        self.headers = headers
        self.timeout = timeout
        self.conns = {}

    def request(self, method, url, body=None, headers=None):
        parts = urllib.parse.urlsplit(url)
        key = (parts.hostname, parts.port)
        conn = self.conns.get(key)
        if conn is None:
            conn = self.conns[key] = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=self.timeout)
        path = parts.path + ('?' + parts.query if parts.query else '')
        try:
            conn.request(method, path, body=body, headers=dict(self.headers, **(headers or {})))
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.conns[key]
            raise
        return resp.status, resp.getheader('Location'), data

    def close(self):
        for conn in self.conns.values():
            conn.close()


class Load:

    def __init__(self, args):
        self.args = args
        self.api = args.api.rstrip('/')
        self.headers = {'X-Project-Id': args.project, 'X-Roles': 'admin,member,reader'}
        if args.token:
            self.headers = {'X-Auth-Token': args.token}
        self.data = os.urandom(args.size)
        self.lock = threading.Lock()
        self.latencies = collections.defaultdict(list)
        self.errors = collections.Counter()
        self.reasons = collections.defaultdict(list)
        self.created = []

    def record(self, op, started, error=None):
        elapsed = time.monotonic() - started
        with self.lock:
            self.latencies[op].append(elapsed)
            if error:
                self.errors[op] += 1
                if len(self.reasons[op]) < 3:
                    self.reasons[op].append(error)

    def call(self, client, op, method, url, expect, **kw):
        started = time.monotonic()
        try:
            status, location, data = client.request(method, url, **kw)
        except Exception as e:
            self.record(op, started, '%s: %s' % (type(e).__name__, e))
            return None, None, None
        error = None if status in expect else '%s %s -> %s %s' % (
            method, urllib.parse.urlsplit(url).path, status, data[:120])
        self.record(op, started, error)
        return status, location, data

    def _new_image(self, client, op):
        status, _, data = self.call(client, op, 'POST', self.api + '/v2/images', (201,),
                                    body=json.dumps({'name': 'load', 'disk_format': 'raw',
                                                     'container_format': 'bare'}),
                                    headers={'Content-Type': 'application/json'})
        return json.loads(data)['id'] if status == 201 else None

    def _upload(self, client, image_id, op):
        self.call(client, op, 'PUT', '%s/v2/images/%s/file' % (self.api, image_id), (204,),
                  body=self.data, headers={'Content-Type': 'application/octet-stream'})

    def _delete(self, client, image_id, op):
        self.call(client, op, 'DELETE', '%s/v2/images/%s' % (self.api, image_id), (204,))

    def prepare(self):
        """Images for show and download: uploaded once, deleted at the end."""
        client = Client(self.headers, self.args.timeout)
        try:
            for _ in range(min(self.args.clients, 8)):
                image_id = self._new_image(client, 'setup')
                if image_id:
                    self._upload(client, image_id, 'setup')
                    self.created.append(image_id)
        finally:
            client.close()
        if not self.created:
            sys.exit('could not create an image to read: %s' % self.reasons['setup'])

    def worker(self, deadline, ops):
        client = Client(self.headers, self.args.timeout)
        rng = random.Random()
        try:
            while time.monotonic() < deadline:
                op = rng.choice(ops)
                image_id = rng.choice(self.created)
                if op == 'show':
                    self.call(client, op, 'GET', '%s/v2/images/%s' % (self.api, image_id),
                              (200,))
                elif op == 'list':
                    self.call(client, op, 'GET', self.api + '/v2/images?limit=20', (200,))
                elif op == 'create':
                    new = self._new_image(client, op)
                    if new:
                        self._delete(client, new, 'delete')
                elif op == 'upload':
                    new = self._new_image(client, 'create')
                    if new:
                        self._upload(client, new, op)
                        self._delete(client, new, 'delete')
                elif op == 'download':
                    self.download(client, image_id)
        finally:
            client.close()

    def download(self, client, image_id):
        started = time.monotonic()
        try:
            status, location, data = client.request(
                'GET', '%s/v2/images/%s/file' % (self.api, image_id))
            if status in (301, 302, 303, 307) and location:
                status, location, data = client.request('GET', urllib.parse.urljoin(
                    self.api, location))
        except Exception as e:
            self.record('download', started, '%s: %s' % (type(e).__name__, e))
            return
        ok = status == 200 and len(data) == len(self.data)
        self.record('download', started, None if ok else 'download -> %s, %d bytes'
                    % (status, len(data)))

    def cleanup(self):
        client = Client(self.headers, self.args.timeout)
        try:
            for image_id in self.created:
                self._delete(client, image_id, 'setup')
        finally:
            client.close()


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def report(load, elapsed, before, after):
    header = ('call', 'count', 'errors', 'per s', 'p50 ms', 'p99 ms')
    lines = ['%-9s %8s %7s %9s %9s %9s' % header]
    for op in sorted(load.latencies):
        if op == 'setup':
            continue
        values = load.latencies[op]
        lines.append('%-9s %8d %7d %9.1f %9.1f %9.1f' % (
            op, len(values), load.errors[op], len(values) / elapsed,
            _percentile(values, 0.5) * 1000, _percentile(values, 0.99) * 1000))
    for op, reasons in sorted(load.reasons.items()):
        for reason in reasons:
            lines.append('  %s error: %s' % (op, reason))
    for name in before:
        rss_before = sum(before[name].values()) / MiB
        rss_after = sum(after.get(name, {}).values()) / MiB
        lines.append('RSS %s: %.0f MiB before, %.0f MiB after (%d processes: %s)' % (
            name, rss_before, rss_after, len(after.get(name, {})),
            ', '.join('%d=%.0f' % (pid, rss / MiB)
                      for pid, rss in sorted(after.get(name, {}).items()))))
    return '\n'.join(lines)


def _groups(args):
    groups = []
    for pidfile in args.pidfile:
        with open(pidfile) as f:
            groups.append((os.path.basename(pidfile), os.getpgid(int(f.read().strip()))))
    for pid in args.pid:
        groups.append(('pid %d' % pid, os.getpgid(pid)))
    return groups


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--api', default='http://127.0.0.1:9292')
    parser.add_argument('--clients', type=int, default=8)
    parser.add_argument('--duration', type=float, default=20.0, help='seconds')
    parser.add_argument('--ops', default=','.join(OPS),
                        help='comma-separated mix of %s (repeat one to weigh it)'
                             % ', '.join(OPS))
    parser.add_argument('--size', type=int, default=MiB, help='upload size, bytes')
    parser.add_argument('--timeout', type=float, default=30.0, help='per request, seconds')
    parser.add_argument('--project', default='load-test', help='X-Project-Id (noauth)')
    parser.add_argument('--token', help='a Keystone token (keystone flavor)')
    parser.add_argument('--pidfile', action='append', default=[],
                        help='a server\'s pid file: its process group is measured')
    parser.add_argument('--pid', type=int, action='append', default=[],
                        help='a server\'s pid: its process group is measured')
    args = parser.parse_args(argv)
    ops = [op.strip() for op in args.ops.split(',') if op.strip()]
    unknown = set(ops) - set(OPS)
    if unknown or not ops:
        parser.error('unknown operations: %s' % ', '.join(sorted(unknown)))
    if not (1 <= args.clients <= 256 and 0 < args.duration <= 600
            and 0 < args.size <= 64 * MiB):
        parser.error('bounds: 1 <= --clients <= 256, 0 < --duration <= 600, '
                     '0 < --size <= 64 MiB')
    groups = _groups(args)
    load = Load(args)
    load.prepare()
    before = memory(groups)
    started = time.monotonic()
    deadline = started + args.duration
    threads = [threading.Thread(target=load.worker, args=(deadline, ops), daemon=True)
               for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.duration + args.timeout * 4)
    elapsed = time.monotonic() - started
    after = memory(groups)
    load.cleanup()
    print('%d clients, %.0f s, mix %s, upload/download size %d bytes'
          % (args.clients, elapsed, ','.join(ops), args.size))
    print(report(load, elapsed, before, after))
    return 1 if sum(load.errors.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
