"""Database tests run for real on SQLite, PostgreSQL and MariaDB.

Each test class comes in three flavours built on oslo.db's opportunistic fixtures: every test
gets its own throwaway database on the engine, and a class skips with oslo.db's message only
where its server is truly absent (tools/run-tests.sh starts both servers and creates the
"openstack_citest" user the fixtures log in as).
"""

from oslo_db.sqlalchemy import test_fixtures
import testtools

from glance.db import api as db_api
from glance.db import migration


class _GlanceFacade:
    """Point glance's own enginefacade (not oslo.db's global one) at the test database."""

    def get_per_test_enginefacade(self):
        return db_api._main


class SQLiteFixture(_GlanceFacade, test_fixtures.OpportunisticDbFixture):
    pass


class MySQLFixture(_GlanceFacade, test_fixtures.MySQLOpportunisticFixture):
    pass


class PostgreSQLFixture(_GlanceFacade, test_fixtures.PostgresqlOpportunisticFixture):
    pass


class DbTestCase(test_fixtures.OpportunisticDBTestMixin, testtools.TestCase):
    """A test on a fresh database of the class's engine, migrated to the head."""

    FIXTURE = SQLiteFixture
    SKIP_ON_UNAVAILABLE_DB = True
    migrate = True

    def setUp(self):
        super().setUp()
        self.engine = db_api.get_engine()
        if self.migrate:
            migration.sync(self.engine)


class MySQLMixin:
    FIXTURE = MySQLFixture


class PostgreSQLMixin:
    FIXTURE = PostgreSQLFixture


def on_every_engine(cls):
    """Add MySQL and PostgreSQL variants of a test class to its module.

    The class itself runs on SQLite; ``<Name>MySQL`` and ``<Name>PostgreSQL`` are added.
    """
    import sys
    module = sys.modules[cls.__module__]
    for mixin, suffix in ((MySQLMixin, 'MySQL'), (PostgreSQLMixin, 'PostgreSQL')):
        variant = type(cls.__name__ + suffix, (mixin, cls), {'__module__': cls.__module__})
        setattr(module, variant.__name__, variant)
    return cls
