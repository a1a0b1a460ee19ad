"""The alembic migrations on SQLite, PostgreSQL and MariaDB: they apply, the expand/contract
steps report and run in order, and the schema they build is the one the models describe."""

import datetime

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
        if type_ == 'index' and name == 'ix_image_properties_list':
            # On PostgreSQL an expression index (substr of the value), which the model
            # cannot spell for one engine alone: TestListIndexes checks it.
            return self.engine.dialect.name != 'postgresql'
        return not (type_ == 'table' and name == 'alembic_version')


@base.on_every_engine
class TestListIndexes(base.DbTestCase):
    """The image list's indexes after expand, and the ones they supersede gone at contract."""

    migrate = False

    def _indexes(self, table):
        return {i['name']: i for i in sa.inspect(self.engine).get_indexes(table)}

    def test_expand_adds_then_contract_drops(self):
        migration.expand(self.engine)
        images = self._indexes('images')
        for name, columns in models.LIST_INDEXES.items():
            self.assertEqual(['deleted'] + list(columns), images[name]['column_names'])
        self.assertIn('ix_images_owner', images)  # old code keeps its plans until contract
        self.assertIn('ix_image_tags_value_image_id', self._indexes('image_tags'))
        self.assertIn('ix_image_members_member_status', self._indexes('image_members'))
        props = self._indexes('image_properties')['ix_image_properties_name_value']
        if self.engine.dialect.name == 'postgresql':
            self.assertEqual('name', props['column_names'][0])
            self.assertIn('substr(value, 1, 255)', props['expressions'][1])
        else:
            self.assertEqual(['name', 'value', 'image_id'], props['column_names'])
        migration.contract(self.engine)
        self.assertNotIn('ix_images_owner', self._indexes('images'))
        self.assertNotIn('ix_image_tags_value', self._indexes('image_tags'))
        self.assertNotIn('ix_image_members_member', self._indexes('image_members'))
        self.assertEqual(migration.CHECK_OK, migration.check(self.engine))

    def test_a_long_property_value_is_stored_and_found(self):
        """Beyond what one index entry holds (PostgreSQL's ~2,700 bytes)."""
        from glance.db import api as db_api
        migration.sync(self.engine)
        value = 'v' * 60000
        image = db_api.image_create({'id': '6a0c8f0e-0000-4000-8000-000000000001',
                                     'status': 'queued', 'visibility': 'public',
                                     'owner': 'p1', 'properties': {'big': value}})
        self.assertEqual([image['id']], [i['id'] for i in db_api.image_get_all(
            is_admin=True, filters={'properties': {'big': value}})])
        self.assertEqual([], db_api.image_get_all(
            is_admin=True, filters={'properties': {'big': value[:-1] + 'w'}}))


@base.on_every_engine
class TestFilterOrder(base.DbTestCase):
    """2026_9_filter_order: tag and property rows get their image's created_at at expand.

    The rows the old code wrote meanwhile get it at contract, and only then come the
    ordered indexes.
    """

    migrate = False

    def _times(self, conn, table, key):
        return dict(conn.execute(sa.text(
            'SELECT %s, image_created_at FROM %s ORDER BY %s' % (key, table, key)).columns(
            **{key: sa.String, 'image_created_at': sa.DateTime})).all())

    def test_expand_fills_contract_fills_the_rest_and_indexes(self):
        migration.upgrade('2026_8_counters', self.engine)
        created = datetime.datetime(2024, 5, 6, 7, 8, 9)
        with self.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO images (id, status, visibility, min_disk, min_ram, protected, "
                "os_hidden, created_at, deleted) VALUES ('i1', 'active', 'public', 0, 0, "
                ":f, :f, :created, :f)"), {'created': created, 'f': False})
            conn.execute(sa.text("INSERT INTO image_tags (image_id, value) VALUES ('i1', 'a')"))
            conn.execute(sa.text("INSERT INTO image_properties (image_id, name, value) "
                                 "VALUES ('i1', 'a', 'x')"))
        migration.expand(self.engine)
        with self.engine.begin() as conn:
            self.assertEqual({'a': created}, self._times(conn, 'image_tags', 'value'))
            self.assertEqual({'a': created}, self._times(conn, 'image_properties', 'name'))
            # a service still on the old code adds a tag and a property: no creation time
            conn.execute(sa.text("INSERT INTO image_tags (image_id, value) VALUES ('i1', 'b')"))
            conn.execute(sa.text("INSERT INTO image_properties (image_id, name, value) "
                                 "VALUES ('i1', 'b', 'y')"))
            self.assertEqual({'a': created, 'b': None},
                             self._times(conn, 'image_tags', 'value'))
        for table in ('image_tags', 'image_properties'):
            names = {i['name'] for i in sa.inspect(self.engine).get_indexes(table)}
            self.assertFalse({'ix_image_tags_list', 'ix_image_properties_list'} & names)
        migration.contract(self.engine)
        with self.engine.begin() as conn:
            self.assertEqual({'a': created, 'b': created},
                             self._times(conn, 'image_tags', 'value'))
            self.assertEqual({'a': created, 'b': created},
                             self._times(conn, 'image_properties', 'name'))
        tags = {i['name']: i for i in sa.inspect(self.engine).get_indexes('image_tags')}
        self.assertEqual(['value', 'image_created_at', 'image_id'],
                         tags['ix_image_tags_list']['column_names'])
        props = {i['name']: i for i in sa.inspect(self.engine).get_indexes('image_properties')}
        columns = props['ix_image_properties_list']['column_names']
        if self.engine.dialect.name == 'postgresql':
            self.assertEqual('name', columns[0])
            self.assertIn('substr(value, 1, 255)',
                          props['ix_image_properties_list']['expressions'][1])
            self.assertEqual(['image_created_at', 'image_id'], columns[2:])
        else:
            self.assertEqual(['name', 'value', 'image_created_at', 'image_id'], columns)
        # the (value, image_id) and (name, value, image_id) indexes these serve for went
        self.assertNotIn('ix_image_tags_value_image_id', tags)
        self.assertNotIn('ix_image_properties_name_value', props)
