"""``glance-manage audit`` as an operator runs it: drift made on purpose behind glance's back
(an object deleted, one truncated, one corrupted, an orphan planted, a cache entry left for a
deleted image, an upload stuck) is reported exactly, ``--repair`` is a dry run until
``--yes``, then fixes exactly that, and a second audit is clean. Real glance-api,
glance-stream and file store; SQLite, PostgreSQL and MariaDB."""

import json
import os
import time
import uuid

import sqlalchemy as sa

from glance.tests.functional.data import test_data_path
from glance.tests.functional import engines

TWO_DAYS_AGO = time.time() - 2 * 86400


@engines.on_every_engine
class TestAudit(test_data_path.DataTest):

    engine = 'sqlite'
    shared_servers = False

    def setUp(self):
        url, drop = engines.database_url(self.engine)
        self.addCleanup(drop)
        self.server_kwargs = {
            'connection': url,
            # recovery only at start: the stuck upload below stays stuck
            'api_conf': {'DEFAULT': {'housekeeping_interval': 3600,
                                     'audit_orphan_grace': 3600}}}
        super().setUp()
        self.db = sa.create_engine(url or 'sqlite:///%s/glance.sqlite' % self.servers.dir)
        self.addCleanup(self.db.dispose)

    def path(self, image_id):
        return os.path.join(self.servers.store_dir, image_id)

    def audit(self, *args, expect=None):
        result = self.servers.manage('audit', *args, check=False)
        if expect is not None:
            self.assertEqual(expect, result.returncode, result.stdout + result.stderr)
        return result

    def findings(self, *args, expect=1):
        report = json.loads(self.audit('--format', 'json', *args, expect=expect).stdout)
        return sorted((f['class'], f['image_id']) for f in report['findings']), report

    def image(self, data):
        image_id = self.create()['id']
        self.upload(image_id, data)
        return image_id

    def sql(self, statement, **params):
        with self.db.begin() as conn:
            conn.execute(sa.text(statement), params)

    def test_drift_reported_repaired_then_clean(self):
        good = self.image(b'good' * 1000)
        missing = self.image(b'missing' * 1000)
        truncated = self.image(b'truncated' * 1000)
        stale = self.image(b'stale cache' * 1000)
        stuck = self.create()['id']

        os.unlink(self.path(missing))
        with open(self.path(truncated), 'r+b') as f:
            f.truncate(100)
        orphan = str(uuid.uuid4())
        with open(self.path(orphan), 'wb') as f:
            f.write(b'nobody references me')
        os.utime(self.path(orphan), (TWO_DAYS_AGO, TWO_DAYS_AGO))
        young_orphan = str(uuid.uuid4())
        with open(self.path(young_orphan), 'wb') as f:
            f.write(b'an upload just begun, or a hand-made object')
        not_an_image = os.path.join(self.servers.store_dir, 'README')
        with open(not_an_image, 'w') as f:
            f.write('not glance\'s: never reported or touched')
        self.assertEqual(200, self.download(stale).status_code)
        self.wait_cached(stale)
        # the image vanished from the database behind the cache's back
        self.sql("UPDATE images SET deleted = :t, status = 'deleted' WHERE id = :id",
                 t=True, id=stale)
        self.sql("UPDATE images SET status = 'saving', updated_at = :old WHERE id = :id",
                 old='2020-01-01 00:00:00', id=stuck)

        expected = sorted([('missing', missing), ('size', truncated), ('orphan', orphan),
                           ('orphan', young_orphan), ('stale_cache', stale),
                           ('stuck', stuck)])
        found, report = self.findings()
        self.assertEqual(expected, found)
        self.assertEqual(5, report['checked'].get('images'))
        self.assertEqual([], report['errors'])
        table = self.audit(expect=1).stdout
        self.assertIn('CLASS', table)
        self.assertIn('Drift: 1 missing, 2 orphan, 1 size, 1 stale_cache, 1 stuck', table)

        # --repair alone is a dry run: nothing changes
        dry = self.audit('--repair', expect=1).stdout
        self.assertIn('dry run', dry)
        self.assertTrue(os.path.exists(self.path(orphan)))
        self.assertEqual(expected, self.findings()[0])

        result = self.audit('--repair', '--yes', expect=1)
        done = result.stdout
        self.assertIn('%s  orphan: delete object %s from store local' % (orphan, orphan),
                      done)
        self.assertIn('%s  orphan: keep (younger than audit_orphan_grace)' % young_orphan,
                      done)
        self.assertFalse(os.path.exists(self.path(orphan)))
        self.assertTrue(os.path.exists(self.path(young_orphan)))
        self.assertTrue(os.path.exists(not_an_image))
        self.assertEqual('killed', self.show(missing)['status'])
        self.assertEqual('killed', self.show(truncated)['status'])
        self.assertTrue(os.path.exists(self.path(truncated)))  # referenced: kept
        self.assertFalse(os.path.exists(os.path.join(self.servers.state, 'cache', 'data',
                                                     stale)))
        self.assertEqual('active', self.show(good)['status'])
        self.assertIn('Audit repair: image %s: mark image killed' % missing, result.stderr)

        # What repair leaves to people: the young object and the stuck upload.
        os.unlink(self.path(young_orphan))
        self.sql("UPDATE images SET status = 'queued' WHERE id = :id", id=stuck)
        self.assertIn('No drift found.', self.audit(expect=0).stdout)

    def test_verify_reads_through_glance_stream(self):
        good = self.image(b'g' * 100000)
        corrupted = self.image(b'c' * 100000)
        with open(self.path(corrupted), 'r+b') as f:  # same size, other bytes
            f.seek(5000)
            f.write(b'X')
        self.assertEqual([], self.findings(expect=0)[0])
        found, report = self.findings('--verify')
        self.assertEqual([('hash', corrupted)], found)
        self.assertEqual(1, report['checked'].get('verified'))
        self.wait_cached(good)  # the verified read filled the cache

    def test_sample_store_and_since(self):
        for _ in range(5):
            self.image(b'x')
        os.unlink(self.path(self.image(b'gone')))
        found, report = self.findings('--sample', '2', expect=None)
        self.assertEqual(2, report['checked'].get('images'))
        found, report = self.findings('--store', 'local', '--since', '1h', '--max-rate',
                                      '50', '--concurrency', '2')
        self.assertEqual(6, report['checked'].get('images'))
        self.assertEqual(['missing'], [kind for kind, _ in found])
        found, report = self.findings('--since', '2100-01-01', expect=0)
        self.assertEqual(0, report['checked'].get('images', 0))
        self.assertIn('No store nowhere', self.audit('--store', 'nowhere', expect=2).stdout)


class TestAuditTwoStreamNodes(test_data_path.DataTest):
    """A stale cache entry on a second glance-stream node is found and evicted there."""

    shared_servers = False

    def setUp(self):
        import configparser
        from glance.tests.functional import base
        super().setUp()
        self.port2 = base.free_port()
        parser = configparser.RawConfigParser()
        parser.read(self.servers.stream_conf_path)
        parser.set('DEFAULT', 'bind_port', str(self.port2))
        self.cache2 = os.path.join(self.servers.dir, 'state2', 'cache')
        parser.set('DEFAULT', 'state_path', os.path.join(self.servers.dir, 'state2'))
        parser.set('cache', 'directory', self.cache2)
        conf2 = os.path.join(self.servers.dir, 'glance-stream-2.conf')
        with open(conf2, 'w') as f:
            parser.write(f)
        self.node2 = base.Server('glance-stream-2', 'glance.cmd.stream', conf2, self.port2,
                                 os.path.join(self.servers.dir, 'glance-stream-2.log'))
        self.node2.start()
        self.addCleanup(self.node2.stop)
        # glance-manage knows both nodes
        parser = configparser.RawConfigParser()
        parser.read(self.servers.api_conf_path)
        parser.set('stream', 'endpoints', '%s,%s' % (self.servers.stream_url, self.node2.url))
        self.manage_conf = os.path.join(self.servers.dir, 'manage-two-nodes.conf')
        with open(self.manage_conf, 'w') as f:
            parser.write(f)

    def test_stale_entry_on_the_second_node(self):
        from oslo_config import cfg
        from oslo_config import fixture as config_fixture

        from glance.common import ticket
        image_id = self.create()['id']
        self.upload(image_id, b'on node two' * 100)
        # a ticketed read on node 2 caches the image there
        self.useFixture(config_fixture.Config(cfg.CONF)).config(
            ticket_key=self.servers.ticket_key, group='stream')
        token = ticket.sign(image_id, self.project)
        resp = self.session.get(
            '%s/v2/images/%s/file?ticket=%s' % (self.node2.url, image_id, token))
        self.assertEqual(200, resp.status_code, resp.text)
        self.wait_cached(image_id, cache_dir=self.cache2)
        db = sa.create_engine('sqlite:///%s/glance.sqlite' % self.servers.dir)
        self.addCleanup(db.dispose)
        with db.begin() as conn:  # deleted behind the caches' back
            conn.execute(sa.text("UPDATE images SET deleted = :t, status = 'deleted' "
                                 "WHERE id = :id"), {'t': True, 'id': image_id})

        def audit(*args):
            result = self.servers.manage('audit', '--format', 'json', *args,
                                         conf=self.manage_conf, check=False)
            return result.returncode, json.loads(result.stdout)

        code, report = audit()
        self.assertEqual(1, code, report)
        self.assertEqual([('stale_cache', image_id, 'cached on %s: image is deleted'
                           % self.node2.url)],
                         [(f['class'], f['image_id'], f['detail'])
                          for f in report['findings']])
        code, report = audit('--repair', '--yes')
        self.assertEqual(['evict from the cache of %s' % self.node2.url],
                         [r['action'] for r in report['repairs']])
        self.assertFalse(os.path.exists(os.path.join(self.cache2, 'data', image_id)))
        code, report = audit()
        self.assertEqual((0, []), (code, report['findings']))
