"""The alembic migrations on SQLite, PostgreSQL and MariaDB: they apply, the expand/contract
steps report and run in order, and the schema they build is the one the models describe."""

from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from glance.db import migration
from glance.db import models
from glance.tests.unit.db import base


@base.on_every_engine
class TestMigrations(base.DbTestCase):

    migrate = False

    def test_sync_creates_every_table(self):
        migration.sync(self.engine)
        tables = set(sa.inspect(self.engine).get_table_names())
        self.assertTrue({'images', 'image_properties', 'image_tags', 'image_locations',
                         'image_members', 'tasks', 'alembic_version'} <= tables, tables)
        self.assertEqual(migration.CHECK_OK, migration.check(self.engine))

    def test_expand_then_contract(self):
        self.assertEqual(migration.CHECK_EXPAND, migration.check(self.engine))
        self.assertRaises(RuntimeError, migration.contract, self.engine)
        migration.expand(self.engine)
        self.assertEqual(migration.CHECK_CONTRACT, migration.check(self.engine))
        migration.migrate(self.engine)
        migration.contract(self.engine)
        self.assertEqual(migration.CHECK_OK, migration.check(self.engine))

    def test_sync_twice_is_harmless(self):
        migration.sync(self.engine)
        heads = migration.current(self.engine)
        migration.sync(self.engine)
        self.assertEqual(heads, migration.current(self.engine))

    def test_current_of_an_empty_database(self):
        self.assertEqual(set(), migration.current(self.engine))
        self.assertFalse(migration.has_tables(self.engine))


@base.on_every_engine
class TestModelsMatchMigrations(test_migrations.ModelsMigrationsSync, base.DbTestCase):

    migrate = False

    def db_sync(self, engine):
        migration.sync(engine)

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def include_object(self, object_, name, type_, reflected, compare_to):
        return not (type_ == 'table' and name == 'alembic_version')
