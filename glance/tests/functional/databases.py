"""Scratch PostgreSQL and MariaDB databases for functional tests (real servers on loopback).

``ScratchDatabase('postgresql')`` creates a database of its own on the engine (through the
``openstack_citest`` account tools/run-tests.sh sets up), gives its URL to a ServerFixture
(``connection=``) and drops it at cleanup; the test skips where the server is absent.
"""

import uuid

import fixtures
import sqlalchemy as sa

_ADMIN_URLS = {
    'postgresql': 'postgresql+psycopg2://openstack_citest:openstack_citest@127.0.0.1:5432/'
                  'openstack_citest',
    'mysql': 'mysql+pymysql://openstack_citest:openstack_citest@127.0.0.1:3306/'
             'openstack_citest',
}


class ScratchDatabase(fixtures.Fixture):

    def __init__(self, engine_name):
        super().__init__()
        self.engine_name = engine_name

    def _setUp(self):
        admin = _ADMIN_URLS[self.engine_name]
        self.name = 'glance_func_%s' % uuid.uuid4().hex[:12]
        try:
            self._admin = sa.create_engine(admin, isolation_level='AUTOCOMMIT')
            with self._admin.connect() as conn:
                conn.execute(sa.text('CREATE DATABASE %s' % self.name))
        except sa.exc.OperationalError as e:
            raise fixtures.SetupError('%s is not available: %s' % (self.engine_name, e))
        self.addCleanup(self._drop)
        self.url = admin.rsplit('/', 1)[0] + '/' + self.name
        if self.engine_name == 'mysql':
            self.url += '?charset=utf8mb4'

    def _drop(self):
        with self._admin.connect() as conn:
            if self.engine_name == 'postgresql':
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = '%s' AND pid <> pg_backend_pid()" % self.name))
            conn.execute(sa.text('DROP DATABASE IF EXISTS %s' % self.name))
        self._admin.dispose()
