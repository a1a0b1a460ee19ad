"""Image list calls at catalogue scale on PostgreSQL: 1k, 100k, 1M images, before and after.

For each size: a database is created on the local PostgreSQL, migrated by the "before"
checkout (an earlier commit, unpacked with ``git archive``) and filled by direct SQL
(``generate_series``: a million images with properties, tags, members and locations in a few
minutes); glance-api of that checkout is measured; the database is then migrated to this
tree's schema (the time it takes is reported: it is the upgrade an operator runs) and this
tree's glance-api is measured on the same catalogue.

Every call runs with 8 clients, bounded in count and in time, as a member of one project
(who sees about a fifth of the catalogue: 2% own, 15% public, ~2% shared) unless it
says admin. Figures: req/s, p50/p99, and the database's CPU per request: utime+stime of
the PostgreSQL backends serving the benchmark database (from /proc), which works without
pg_stat_statements. The query that
ran longest during the slowest call is taken from pg_stat_activity and EXPLAIN ANALYZEd,
before and after.

    .venv/bin/python tools/bench/catalogue.py --sizes 1000,100000 --before main
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import sqlalchemy as sa
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the shared helpers: servers, clients, meters)

ADMIN_URL = 'postgresql+psycopg2://openstack_citest:openstack_citest@127.0.0.1:5432/' \
            'openstack_citest'
PROJECTS = 50
MEMBER = 'project-1'
TICK = os.sysconf('SC_CLK_TCK')

# Direct SQL into the project's schema. i is 1..N; about 15% public, 5% community, 30%
# shared (each with five members, three accepted), 50% private, over 50 projects; 3%
# deleted; names repeat every 5000 images and 2% have none; 5% have no size.
GENERATE = [
    """INSERT INTO images (id, name, disk_format, container_format, size, virtual_size,
        status, visibility, checksum, min_disk, min_ram, owner, protected, os_hidden,
        created_at, updated_at, deleted_at, deleted)
       SELECT lpad(to_hex(i), 8, '0') || '-0000-4000-8000-'
              || lpad(to_hex(i::bigint * 7919), 12, '0'),
              CASE WHEN i % 50 = 7 THEN NULL ELSE 'img-' || (i % 5000) END,
              (ARRAY['raw', 'qcow2', 'vmdk', 'iso'])[1 + i % 4], 'bare',
              CASE WHEN i % 20 = 3 THEN NULL ELSE ((i * 2654435761) % 21474836480) END,
              NULL,
              CASE WHEN i % 40 = 1 THEN 'queued' WHEN i % 97 = 5 THEN 'deactivated'
                   ELSE 'active' END,
              CASE WHEN i % 20 < 3 THEN 'public' WHEN i % 20 = 3 THEN 'community'
                   WHEN i % 20 < 10 THEN 'shared' ELSE 'private' END,
              md5(i::text), i % 3, (i % 4) * 512, 'project-' || ((i * 7) % %(projects)d),
              i % 50 = 0, i % 100 = 0,
              timestamp '2020-01-01' + ((i / 2) * interval '13 seconds'),
              timestamp '2020-01-01' + ((i / 2) * interval '13 seconds') + interval '1 hour',
              NULL, i % 33 = 0
       FROM generate_series(1, %(n)d) AS i""",
    """INSERT INTO image_properties (image_id, name, value)
       SELECT id, p.name, CASE p.name
                 WHEN 'os_distro' THEN (ARRAY['ubuntu', 'debian', 'centos', 'fedora', 'arch',
                      'rocky', 'alma', 'suse', 'cirros', 'windows'])[1 + abs(hashtext(id)) % 10]
                 WHEN 'hw_disk_bus' THEN (ARRAY['virtio', 'scsi', 'ide', 'sata'])[
                      1 + abs(hashtext(id)) % 4]
                 ELSE 'b' || ltrim(substr(id, 1, 8), '0') END
       FROM images, (VALUES ('os_distro'), ('hw_disk_bus'), ('build_id')) AS p(name)""",
    """INSERT INTO image_tags (image_id, value)
       SELECT id, t FROM (SELECT id, ('x' || substr(id, 1, 8))::bit(32)::int AS i
                          FROM images) AS s,
                         LATERAL (VALUES ('t' || (s.i % 1000)), ('gen' || (s.i % 7))) AS v(t)""",
    """INSERT INTO image_members (image_id, member, can_share, status, created_at,
        deleted)
       SELECT id, 'project-' || ((abs(hashtext(id)) + k) % %(projects)d), false,
              CASE WHEN k <= 3 THEN 'accepted' ELSE 'pending' END, created_at, false
       FROM images, generate_series(1, 5) AS k WHERE visibility = 'shared'""",
    """INSERT INTO image_locations (image_id, value, meta_data, status, created_at, deleted)
       SELECT id, 'file:///var/lib/glance/images/' || id, '{}', 'active', created_at, false
       FROM images WHERE status = 'active' AND NOT deleted""",
    "ANALYZE",
]


def _admin():
    return sa.create_engine(ADMIN_URL, isolation_level='AUTOCOMMIT')


def create_database(name):
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name))
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    admin.dispose()
    return ADMIN_URL.rsplit('/', 1)[0] + '/' + name


def drop_database(name):
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name))
    admin.dispose()


# On a schema with 2026_9_filter_order the tag and property rows carry their image's
# created_at (the service sets it on every write; the migration fills it for rows that
# exist).
ROW_TIMES = ["""UPDATE %s SET image_created_at = images.created_at FROM images
    WHERE images.id = %s.image_id""" % (table, table)
             for table in ('image_tags', 'image_properties')]


def generate(url, n):
    t0 = time.monotonic()
    for sql in GENERATE:
        if sql == 'ANALYZE' and _raw(url, "SELECT 1 FROM information_schema.columns WHERE "
                                          "table_name = 'image_tags' AND "
                                          "column_name = 'image_created_at'"):
            for sql_times in ROW_TIMES:
                _raw(url, sql_times)
        _raw(url, sql.replace('%(n)d', str(n)).replace('%(projects)d', str(PROJECTS)))
    counts = {t: _raw(url, 'SELECT count(*) FROM %s' % t)[0][0]
              for t in ('images', 'image_properties', 'image_tags', 'image_members',
                        'image_locations')}
    return time.monotonic() - t0, counts


def _raw(url, sql):
    """Run SQL as it is (no parameters, so no "%" is taken for one); the rows, if any."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else []
        conn.commit()
        return rows
    finally:
        conn.close()
        engine.dispose()


class Backends:
    """CPU seconds of the PostgreSQL backends serving one database (from /proc)."""

    def __init__(self, url):
        self.engine = sa.create_engine(url, isolation_level='AUTOCOMMIT', pool_size=1)
        self.name = url.rsplit('/', 1)[1]
        self.url = url

    def cpu(self):
        with self.engine.connect() as conn:
            pids = conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()", (self.name,)).scalars().all()
        result = {}
        for pid in pids:
            try:
                with open('/proc/%d/stat' % pid) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
                result[pid] = (int(fields[11]) + int(fields[12])) / TICK
            except OSError:
                pass
        return result

    def longest_query(self, stop, found):
        """Until ``stop`` is set: the text of the longest-running list query seen."""
        with self.engine.connect() as conn:
            while not stop.wait(0.05):
                row = conn.exec_driver_sql(
                    "SELECT query, extract(epoch FROM now() - query_start) FROM "
                    "pg_stat_activity WHERE datname = %s AND state = 'active' AND "
                    "pid <> pg_backend_pid() AND query LIKE 'SELECT images.id%%' "
                    "ORDER BY query_start LIMIT 1", (self.name,)).first()
                if row is not None and row[1] > found.get('seconds', -1):
                    found.update(query=row[0], seconds=row[1])

    def explain(self, query):
        return '\n'.join(r[0] for r in _raw(self.url, 'EXPLAIN (ANALYZE, BUFFERS) ' + query))

    def dispose(self):
        self.engine.dispose()


def _headers(admin=False):
    return {'X-Project-Id': MEMBER,
            'X-Roles': 'admin,member,reader' if admin else 'member,reader'}


def deep_marker(url, depth=0.9):
    """An image ~90% down the member's default list (the list's order, computed in SQL)."""
    engine = sa.create_engine(url)
    visible = ("NOT deleted AND NOT os_hidden AND (owner = '%s' OR visibility = 'public' OR "
               "(visibility = 'shared' AND id IN (SELECT image_id FROM image_members WHERE "
               "member = '%s' AND status = 'accepted')))" % (MEMBER, MEMBER))
    with engine.connect() as conn:
        count = conn.exec_driver_sql('SELECT count(*) FROM images WHERE ' + visible).scalar()
        marker = conn.exec_driver_sql(
            'SELECT id FROM images WHERE %s ORDER BY created_at DESC, id DESC OFFSET %d '
            'LIMIT 1' % (visible, int(count * depth))).scalar()
    engine.dispose()
    return count, marker


class Run:

    def __init__(self, args, label, server, db_url):
        self.args = args
        self.label = label
        self.server = server
        self.backends = Backends(db_url)
        self.results = []

    def phase(self, name, path, admin=False, method='GET', body=None, clients=8,
              seconds=None, watch=False):
        seconds = seconds or self.args.seconds
        url = self.server.url + path
        payload = json.dumps(body).encode() if body is not None else None

        def work(client, i):
            headers = {'Content-Type': 'application/json'} if payload else {}
            status, _, data = client.request(method, url, payload, headers)
            if status not in (200, 201):
                raise RuntimeError('%s %s: %d %s' % (method, path, status, data[:200]))

        bench.run_clients(2, 4, 30, work, _headers(admin))  # warm the pools and caches
        stop, found = threading.Event(), {}
        watcher = None
        if watch:
            watcher = threading.Thread(target=self.backends.longest_query,
                                       args=(stop, found))
            watcher.start()
        before = self.backends.cpu()
        with bench.Meter(self.server.pids) as meter:
            lat, wall, errors = bench.run_clients(clients, self.args.requests, seconds, work,
                                                  _headers(admin))
        after = self.backends.cpu()
        stop.set()
        if watcher:
            watcher.join()
        db_cpu = sum(after[p] - before.get(p, 0) for p in after)
        n = len(lat)
        result = {'run': self.label, 'call': name, 'n': n, 'errors': len(errors),
                  'first_error': errors[0] if errors else None,
                  'rps': n / wall if wall else 0,
                  'p50_ms': 1000 * (bench.percentile(lat, 50) or 0),
                  'p99_ms': 1000 * (bench.percentile(lat, 99) or 0),
                  'db_cpu_ms': 1000 * db_cpu / n if n else None,
                  'api_cpu_ms': 1000 * meter.cpu / n if n else None}
        if found.get('query'):
            result['slowest_query'] = found['query']
        self.results.append(result)
        print('  %-8s %-34s %7.1f req/s  p99 %8.1f ms  db %6.2f ms/req  (%d, %d errors)'
              % (self.label, name, result['rps'], result['p99_ms'], result['db_cpu_ms'] or 0,
                 n, len(errors)), flush=True)
        return result

    def enumerate(self, limit=1000, seconds=60):
        """Page through the member's whole list with next links; time per page."""
        client = bench.Client(_headers())
        path, times = '/v2/images?limit=%d' % limit, []
        stop_at = time.monotonic() + seconds
        total = 0
        while path and time.monotonic() < stop_at:
            t0 = time.monotonic()
            body = client.json('GET', self.server.url + path)
            times.append(time.monotonic() - t0)
            total += len(body['images'])
            path = body.get('next')
        client.close()
        first, last = times[:5], times[-5:]
        result = {'run': self.label, 'call': 'enumerate (limit=%d)' % limit,
                  'pages': len(times), 'images': total, 'complete': path is None,
                  'first_pages_ms': 1000 * sum(first) / len(first),
                  'last_pages_ms': 1000 * sum(last) / len(last),
                  'seconds': sum(times)}
        self.results.append(result)
        print('  %-8s enumerate: %d pages, %d images%s, first pages %.0f ms, last pages '
              '%.0f ms' % (self.label, len(times), total,
                           '' if path is None else ' (stopped at the time bound)',
                           result['first_pages_ms'], result['last_pages_ms']), flush=True)

    def mixed(self, image_path, tag_path):
        """GET p99 alone, then with 8 clients of tag lists running beside it."""
        alone = self.phase('GET image, alone (8 clients)', image_path)
        stop = threading.Event()

        def tag_lists():
            client = bench.Client(_headers())
            while not stop.is_set():
                client.request('GET', self.server.url + tag_path)
            client.close()
        loaders = [threading.Thread(target=tag_lists) for _ in range(8)]
        for t in loaders:
            t.start()
        try:
            loaded = self.phase('GET image, beside 8 tag lists', image_path)
        finally:
            stop.set()
            for t in loaders:
                t.join(60)
        loaded['p99_vs_alone'] = loaded['p99_ms'] / alone['p99_ms'] if alone['p99_ms'] else None

    def all(self, marker, image_id):
        p = self.phase
        p('default list', '/v2/images')
        p('limit=100', '/v2/images?limit=100')
        p('visibility=all (admin)', '/v2/images?visibility=all', admin=True)
        p('tag=t42', '/v2/images?tag=t42', watch=True)
        p('name=img-42', '/v2/images?name=img-42')
        p('property build_id (rare)', '/v2/images?build_id=b2a')
        p('property os_distro=arch', '/v2/images?os_distro=arch')
        p('sort_key=size', '/v2/images?sort_key=size', watch=True)
        p('sort_key=name asc', '/v2/images?sort_key=name&sort_dir=asc')
        p('deep marker (90%)', '/v2/images?marker=%s' % marker, watch=True)
        p('GET image', '/v2/images/%s' % image_id)
        p('POST image', '/v2/images', method='POST',
          body={'name': 'bench', 'disk_format': 'raw', 'container_format': 'bare'})
        self.mixed('/v2/images/%s' % image_id, '/v2/images?tag=t42')
        self.enumerate(seconds=self.args.enumerate_seconds)


def _share_database(server, url):
    """glance-stream on the benchmark database too (it reads image rows; unused here)."""
    path = os.path.join(server.dir, 'glance-stream.conf')
    with open(path) as f:
        text = f.read()
    with open(path, 'w') as f:
        f.write(text.replace('sqlite:///%s/glance.sqlite' % server.dir, url))


def unpack(revision, dest):
    """The tree of ``revision`` in ``dest`` (git archive: no worktree is added)."""
    subprocess.run('rm -rf %s && mkdir -p %s && git archive %s | tar -x -C %s'
                   % (dest, dest, revision, dest), shell=True, check=True, cwd=bench.ROOT)
    return dest


def one_size(args, n, before_root, report):
    name = 'glance_scale_%d' % n
    url = create_database(name)
    work = os.path.join(args.work, str(n))
    subprocess.run(['rm', '-rf', work])
    os.makedirs(work)
    python = sys.executable
    try:
        print('%d images' % n, flush=True)
        servers = {}
        if before_root:
            servers['before'] = before_root
        servers['after'] = bench.ROOT
        entry = {'images': n}
        for i, (label, root) in enumerate(servers.items()):
            database = {'database': {'connection': url, 'max_pool_size': 10}}
            t0 = time.monotonic()
            server = bench.Ours(work, python, name=label, root=root, api_extra=database)
            _share_database(server, url)
            sync = time.monotonic() - t0
            if i == 0:
                entry['generate_s'], entry['rows'] = generate(url, n)
                print('  generated in %.1f s: %s' % (entry['generate_s'], entry['rows']),
                      flush=True)
                entry['visible'], marker = deep_marker(url)
            else:
                entry['migrate_s'] = sync
                print('  migrated to this tree\'s schema in %.1f s' % sync, flush=True)
                _raw(url, 'ANALYZE')
            image_id = marker
            server.start()
            run = Run(args, label, server, url)
            try:
                run.all(marker, image_id)
            finally:
                server.stop()
            # the plans of the watched calls (tag, sort by size, deep marker), the slowest first
            watched = sorted((r for r in run.results if r.get('slowest_query')),
                             key=lambda r: -r['p99_ms'])
            entry.setdefault('explain', {})[label] = [
                {'call': r['call'], 'p99_ms': r['p99_ms'], 'query': r['slowest_query'],
                 'plan': run.backends.explain(r['slowest_query'])} for r in watched]
            run.backends.dispose()
            report.extend(run.results and [dict(r, images=n) for r in run.results])
        report.append(entry)
    finally:
        if not args.keep:
            drop_database(name)


def table(report):
    lines = []
    rows = [r for r in report if 'call' in r and 'rps' in r]
    calls = list(dict.fromkeys(r['call'] for r in rows))
    sizes = sorted({r['images'] for r in rows})
    runs = list(dict.fromkeys(r['run'] for r in rows))
    head = '| call | ' + ' | '.join('%s %s' % (run, _size(s)) for s in sizes for run in runs)
    lines.append(head + ' |')
    lines.append('|---' * (1 + len(sizes) * len(runs)) + '|')
    for call in calls:
        cells = []
        for s in sizes:
            for run in runs:
                r = next((r for r in rows if r['call'] == call and r['images'] == s
                          and r['run'] == run), None)
                cells.append('%.0f/s, p99 %.0f ms, db %.1f ms' % (
                    r['rps'], r['p99_ms'], r['db_cpu_ms'] or 0) if r else '')
        lines.append('| %s | %s |' % (call, ' | '.join(cells)))
    return '\n'.join(lines)


def _size(n):
    return '%dM' % (n // 1000000) if n >= 1000000 else '%dk' % (n // 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='1000,100000,1000000')
    parser.add_argument('--before', help='git revision to measure first ("before")')
    parser.add_argument('--seconds', type=float, default=6.0, help='time bound per call')
    parser.add_argument('--requests', type=int, default=3000, help='count bound per call')
    parser.add_argument('--enumerate-seconds', type=float, default=45.0)
    parser.add_argument('--work', default=os.path.expanduser('~/.cache/glance-bench/scale'))
    parser.add_argument('--output', default=None, help='JSON report (default: in --work)')
    parser.add_argument('--keep', action='store_true', help='keep the databases')
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    before_root = None
    if args.before:
        before_root = unpack(args.before, os.path.join(args.work, 'before-tree'))
    report = []
    for n in [int(s) for s in args.sizes.split(',')]:
        one_size(args, n, before_root, report)
        with open(args.output or os.path.join(args.work, 'report.json'), 'w') as f:
            json.dump(report, f, indent=1, default=str)
    print(table(report))


if __name__ == '__main__':
    main()
