"""Delayed delete as an operator sees it: a deleted image waits in pending_delete with its
data, ``glance-manage image restore`` brings it back, the scrubber (``glance-manage scrub``
and glance-api's housekeeping) deletes the data after ``scrub_time``, one scrubber at a time,
and a store that refuses is reported and retried. On SQLite, PostgreSQL and MariaDB."""

import configparser
import datetime
import json
import os
import time

import sqlalchemy as sa

from glance.tests.functional.data import test_data_path
from glance.tests.functional import engines


class _Scrub(test_data_path.DataTest):

    engine = 'sqlite'
    shared_servers = False
    scrub_time = 3600

    def setUp(self):
        url, drop = engines.database_url(self.engine)
        self.addCleanup(drop)
        self.server_kwargs = {
            'stream': False, 'connection': url,
            'api_conf': {'DEFAULT': {'delayed_delete': 'true', 'scrub_time': self.scrub_time,
                                     'housekeeping_interval': 1}}}
        super().setUp()
        self.db = sa.create_engine(url or 'sqlite:///%s/glance.sqlite' % self.servers.dir)
        self.addCleanup(self.db.dispose)

    def image_with_data(self, data=b'image data'):
        image = self.create()
        self.upload(image['id'], data)
        return image['id']

    def delete(self, image_id):
        resp = self.session.delete(self.servers.api_url + '/v2/images/%s' % image_id,
                                   headers=self.headers())
        self.assertEqual(204, resp.status_code, resp.text)

    def row(self, image_id):
        with self.db.connect() as conn:
            return conn.execute(sa.text('SELECT status, deleted FROM images WHERE id = :id'),
                                {'id': image_id}).first()

    def stored(self, image_id):
        return os.path.exists(os.path.join(self.servers.store_dir, image_id))

    def manage_conf(self, **defaults):
        """A copy of glance-api's configuration with these [DEFAULT] values."""
        parser = configparser.RawConfigParser()
        parser.read(self.servers.api_conf_path)
        for key, value in defaults.items():
            parser.set('DEFAULT', key, str(value))
        path = os.path.join(self.servers.dir, 'manage-%d.conf' % len(os.listdir(
            self.servers.dir)))
        with open(path, 'w') as f:
            parser.write(f)
        return path


@engines.on_every_engine
class TestDelayedDelete(_Scrub):

    def test_restore_before_scrub_time_then_scrub_after_it(self):
        kept, gone = self.image_with_data(b'kept'), self.image_with_data(b'gone')
        for image_id in (kept, gone):
            self.delete(image_id)
            self.assertEqual(('pending_delete', True), tuple(self.row(image_id)))
            self.assertEqual(404, self.download(image_id).status_code)
            self.assertTrue(self.stored(image_id))

        result = self.servers.manage('image', 'restore', kept)
        self.assertIn('Image %s restored: active, 1 location(s).' % kept, result.stdout)
        self.assertEqual('active', self.show(kept)['status'])
        self.assertEqual(('active', False), tuple(self.row(kept)))

        # An image long unchanged, deleted just now, waits for the scrubber: the audit
        # counts from its deletion, so it is not stuck; past scrub_time and a margin it is.
        with self.db.begin() as conn:
            conn.execute(sa.text("UPDATE images SET updated_at = :old, created_at = :old "
                                 "WHERE id = :id"),
                         {'old': datetime.datetime(2020, 1, 1), 'id': gone})
        report = self.servers.manage('audit', '--format', 'json', check=False)
        self.assertNotIn('stuck', report.stdout)
        with self.db.begin() as conn:
            conn.execute(sa.text("UPDATE images SET deleted_at = :old WHERE id = :id"),
                         {'old': datetime.datetime(2020, 1, 1), 'id': gone})
        report = self.servers.manage('audit', '--format', 'json', check=False)
        self.assertIn('"image_id": "%s"' % gone, report.stdout)
        self.assertIn('pending_delete since 2020-01-01T00:00:00, long past scrub_time',
                      report.stdout)

        # Before scrub_time: nothing to scrub.
        result = self.servers.manage('scrub')
        self.assertIn('0 location(s) scrubbed, 0 failed', result.stdout)
        self.assertTrue(self.stored(gone))

        # After it (scrub_time 0 for this run): the data goes, the image is deleted.
        result = self.servers.manage('scrub', conf=self.manage_conf(scrub_time=0))
        self.assertIn('scrubbed  %s' % gone, result.stdout)
        self.assertIn('1 location(s) scrubbed, 0 failed, 1 image(s) now deleted.',
                      result.stdout)
        self.assertFalse(self.stored(gone))
        self.assertTrue(self.stored(kept))
        self.assertEqual(('deleted', True), tuple(self.row(gone)))

        result = self.servers.manage('image', 'restore', gone, check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('Cannot restore: Image %s is deleted, not pending_delete' % gone,
                      result.stdout)

    def test_a_store_that_refuses_is_reported_and_retried(self):
        image_id = self.image_with_data()
        self.delete(image_id)
        # a second location in a store this node does not have: its delete fails
        with self.db.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO image_locations (image_id, value, meta_data, status, deleted, "
                "deleted_at, created_at) VALUES (:id, 'file:///nowhere/x', "
                "'{\"store\": \"gone-store\"}', 'pending_delete', :f, :t, :t)"),
                {'id': image_id, 'f': False, 't': datetime.datetime(2020, 1, 1)})
        conf = self.manage_conf(scrub_time=0)
        for _ in range(2):  # reported each time, never lost
            result = self.servers.manage('scrub', conf=conf, check=False)
            self.assertEqual(1, result.returncode, result.stdout + result.stderr)
            self.assertIn('FAILED    %s' % image_id, result.stdout)
            self.assertIn('in store gone-store', result.stdout)
            self.assertEqual(('pending_delete', True), tuple(self.row(image_id)))
        self.assertFalse(self.stored(image_id))  # the location that could go, went
        with self.db.connect() as conn:
            statuses = sorted(r[0] for r in conn.execute(sa.text(
                'SELECT status FROM image_locations WHERE image_id = :id'), {'id': image_id}))
        self.assertEqual(['deleted', 'pending_delete'], statuses)

    def test_one_scrubber_at_a_time(self):
        image_id = self.image_with_data()
        self.delete(image_id)
        with self.db.begin() as conn:
            conn.execute(sa.text("INSERT INTO leases (name, holder, expires_at) VALUES "
                                 "('scrubber', 'otherhost:1:boot', :t)"),
                         {'t': datetime.datetime.utcnow() + datetime.timedelta(hours=1)})
        result = self.servers.manage('scrub', '--wait', '1',
                                     conf=self.manage_conf(scrub_time=0), check=False)
        self.assertEqual(2, result.returncode, result.stdout + result.stderr)
        self.assertIn('Another scrubber holds the lease (otherhost:1:boot)', result.stdout)
        self.assertTrue(self.stored(image_id))
        # an expired lease (its holder died) is taken over
        with self.db.begin() as conn:
            conn.execute(sa.text("UPDATE leases SET expires_at = :t"),
                         {'t': datetime.datetime.utcnow() - datetime.timedelta(seconds=5)})
        self.servers.manage('scrub', conf=self.manage_conf(scrub_time=0))
        self.assertFalse(self.stored(image_id))


class TestHousekeepingMetrics(_Scrub):
    """The scrubber's counters, summed in the database, as monitoring reads them.

    GET /v2/housekeeping/metrics (admins only) and glance-manage metrics.
    """

    def metrics(self, roles='admin,member,reader', expect=200):
        resp = self.session.get(self.servers.api_url + '/v2/housekeeping/metrics',
                                headers=self.headers(roles=roles))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp.json() if expect == 200 else resp.text

    def test_scrub_counts_what_it_did_and_what_failed(self):
        before = self.metrics()['counters']
        for name in ('scrubber_runs', 'scrubber_locations_deleted', 'scrubber_failures',
                     'scrubber_images_deleted', 'recovered_uploads', 'audit_runs',
                     'audit_drift_orphan'):
            self.assertIn(name, before)
        self.assertIn('housekeeping_metrics', self.metrics(roles='member,reader', expect=403))

        gone, refused = self.image_with_data(b'gone'), self.image_with_data(b'refused')
        self.delete(gone)
        self.delete(refused)
        with self.db.begin() as conn:  # a location in a store this node does not have
            conn.execute(sa.text(
                "INSERT INTO image_locations (image_id, value, meta_data, status, deleted, "
                "deleted_at, created_at) VALUES (:id, 'file:///nowhere/x', "
                "'{\"store\": \"gone-store\"}', 'pending_delete', :f, :t, :t)"),
                {'id': refused, 'f': False, 't': datetime.datetime.utcnow()})
        # glance-api's own scrubber sweeps every second too (scrub_time 3600: it deletes
        # nothing of these); this one has scrub_time 0
        self.servers.manage('scrub', conf=self.manage_conf(scrub_time=0), check=False)

        after = self.metrics()
        delta = {name: after['counters'][name] - before[name] for name in before}
        self.assertGreaterEqual(delta['scrubber_runs'], 1)
        self.assertEqual(2, delta['scrubber_locations_deleted'])  # both files
        self.assertEqual(1, delta['scrubber_failures'])  # the store it does not have
        self.assertEqual(1, delta['scrubber_images_deleted'])  # gone; refused waits
        self.assertIn('scrubber_runs', after['updated_at'])
        self.assertIsNone(after['scrubber'])  # released at the end of the run

        # glance-manage metrics reads the same counters (from any host: the database)
        # (but for scrubber_runs, which glance-api's sweeps keep adding to)
        read = json.loads(self.servers.manage('metrics', '--format', 'json').stdout)
        runs = read['counters'].pop('scrubber_runs')
        self.assertGreaterEqual(runs, after['counters'].pop('scrubber_runs'))
        self.assertEqual(after['counters'], read['counters'])
        table = self.servers.manage('metrics').stdout
        self.assertRegex(table, r'scrubber_failures\s+%d\s' % after['counters'][
            'scrubber_failures'])

        # an audit counts its runs and what it found, by class
        planted = os.path.join(self.servers.store_dir, '0badc0de-0000-4000-8000-000000000000')
        with open(planted, 'wb') as f:
            f.write(b'nobody references me')
        self.servers.manage('audit', '--format', 'json', check=False)
        counters = self.metrics()['counters']
        self.assertEqual(after['counters']['audit_runs'] + 1, counters['audit_runs'])
        self.assertEqual(after['counters']['audit_drift_orphan'] + 1,
                         counters['audit_drift_orphan'])
        self.assertIn('Audit found drift: orphan: 0badc0de-0000-4000-8000-000000000000',
                      self.servers.manage('audit', check=False).stderr)


class TestHousekeepingScrubber(_Scrub):
    """glance-api's own housekeeping scrubs once scrub_time has passed."""

    scrub_time = 4

    def test_data_kept_until_scrub_time_then_removed(self):
        image_id = self.image_with_data()
        self.delete(image_id)
        deleted_at = time.monotonic()
        self.assertTrue(self.stored(image_id))
        test_data_path.wait_for(lambda: not self.stored(image_id), timeout=30)
        self.assertGreaterEqual(time.monotonic() - deleted_at, 3)
        self.assertFalse(self.stored(image_id))
        test_data_path.wait_for(lambda: self.row(image_id)[0] == 'deleted', timeout=10)
        self.assertEqual(('deleted', True), tuple(self.row(image_id)))
        self.assertIn('Scrubbed the data of image %s' % image_id, self.servers.api.log())
