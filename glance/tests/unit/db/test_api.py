"""The db api's queries on SQLite, PostgreSQL and MariaDB."""

import datetime
import multiprocessing
import os
import tempfile
from unittest import mock
import uuid

from oslo_utils import timeutils
import sqlalchemy as sa

from glance.common import exception
from glance.db import api as db_api
from glance.db import migration
from glance.db import models
from glance.tests.unit.db import base


def _image(**values):
    image = {'id': str(uuid.uuid4()), 'status': 'queued', 'visibility': 'shared',
             'owner': 'p1', 'min_disk': 0, 'min_ram': 0, 'protected': False,
             'os_hidden': False, 'name': 'image'}
    image.update(values)
    return image


@base.on_every_engine
class TestImages(base.DbTestCase):

    def test_create_and_get_with_properties_and_tags(self):
        created = db_api.image_create(_image(properties={'os_distro': 'debian'},
                                             tags=['a', 'b', 'a']))
        got = db_api.image_get(created['id'])
        self.assertEqual({'os_distro': 'debian'}, got['properties'])
        self.assertEqual(['a', 'b'], got['tags'])
        self.assertEqual('queued', got['status'])
        self.assertEqual([], got['locations'])
        self.assertIsNotNone(got['created_at'])

    def test_duplicate_id_is_a_conflict(self):
        image = _image()
        db_api.image_create(image)
        self.assertRaises(exception.Duplicate, db_api.image_create, image)

    def test_update_replaces_properties_and_tags(self):
        image = db_api.image_create(_image(properties={'a': '1', 'b': '2'}, tags=['x']))
        updated = db_api.image_update(image['id'], {'name': 'new'},
                                      properties={'b': '3', 'c': '4'}, tags=['y', 'z'])
        self.assertEqual('new', updated['name'])
        self.assertEqual({'b': '3', 'c': '4'}, updated['properties'])
        self.assertEqual(['y', 'z'], updated['tags'])
        self.assertEqual(updated, db_api.image_get(image['id']))

    def test_update_compare_and_set_status(self):
        image = db_api.image_create(_image())
        db_api.image_update(image['id'], {'status': 'saving'}, from_state='queued')
        self.assertRaises(exception.Conflict, db_api.image_update, image['id'],
                          {'status': 'saving'}, from_state='queued')

    def test_missing_image(self):
        self.assertRaises(exception.ImageNotFound, db_api.image_get, str(uuid.uuid4()))

    def test_destroy_soft_deletes_and_marks_locations(self):
        image = db_api.image_create(_image(status='active'))
        loc = db_api.image_location_add(image['id'], 'file:///x', {'store': 'file'})
        db_api.image_destroy(image['id'], status='pending_delete')
        self.assertRaises(exception.ImageNotFound, db_api.image_get, image['id'])
        deleted = db_api.image_get(image['id'], show_deleted=True)
        self.assertEqual('pending_delete', deleted['status'])
        pending = db_api.image_locations_by_status('pending_delete')
        self.assertEqual([loc], [p['id'] for p in pending])

    def test_quota_counts(self):
        db_api.image_create(_image(size=10, status='active'))
        db_api.image_create(_image(size=5, status='active'))
        db_api.image_create(_image(size=7, status='queued', owner='p2'))
        self.assertEqual(2, db_api.image_count('p1'))
        self.assertEqual(15, db_api.image_storage_used('p1'))
        self.assertEqual(0, db_api.image_storage_used('p3'))

    def test_usage_by_status(self):
        db_api.image_create(_image(size=10, status='active'))
        db_api.image_create(_image(size=3, status='saving'))
        db_api.image_create(_image(size=4, status='saving'))
        db_api.image_create(_image(size=9, status='saving', owner='p2'))
        gone = db_api.image_create(_image(size=50, status='saving'))
        db_api.image_destroy(gone['id'])
        self.assertEqual((2, 7), db_api.image_usage('p1', ['saving']))
        self.assertEqual((3, 17), db_api.image_usage('p1', ['saving', 'active']))
        self.assertEqual((0, 0), db_api.image_usage('p3', ['saving']))


@base.on_every_engine
class TestImageList(base.DbTestCase):

    def setUp(self):
        super().setUp()
        now = timeutils.utcnow()
        self.mine = db_api.image_create(_image(name='mine', size=100, tags=['t1'],
                                               visibility='private',
                                               properties={'os_distro': 'debian'},
                                               created_at=now))
        self.private_other = db_api.image_create(_image(owner='p2', visibility='private',
                                                        name='theirs',
                                                        created_at=now + datetime.timedelta(1)))
        self.public = db_api.image_create(_image(owner='p2', visibility='public', size=10,
                                                 name='public',
                                                 created_at=now + datetime.timedelta(2)))
        self.community = db_api.image_create(_image(owner='p2', visibility='community',
                                                    created_at=now + datetime.timedelta(3)))
        self.shared = db_api.image_create(_image(owner='p2', visibility='shared',
                                                 name='shared',
                                                 created_at=now + datetime.timedelta(4)))

    def _ids(self, **kwargs):
        kwargs.setdefault('project_id', 'p1')
        return [i['id'] for i in db_api.image_get_all(**kwargs)]

    def test_default_visibility_for_a_project(self):
        self.assertEqual([self.public['id'], self.mine['id']], self._ids())

    def test_shared_images_follow_member_status(self):
        db_api.image_member_create(self.shared['id'], 'p1')
        self.assertNotIn(self.shared['id'], self._ids())
        self.assertIn(self.shared['id'], self._ids(member_status='pending'))
        db_api.image_member_update(self.shared['id'], 'p1', 'accepted')
        self.assertIn(self.shared['id'], self._ids())
        self.assertIn(self.shared['id'], self._ids(filters={'visibility': 'shared'}))

    def test_community_only_when_asked(self):
        self.assertEqual([self.community['id']],
                         self._ids(filters={'visibility': 'community'}))

    def test_admin_sees_everything(self):
        self.assertEqual(5, len(self._ids(is_admin=True)))

    def test_private_filter_is_own_only(self):
        self.assertEqual([self.mine['id']], self._ids(filters={'visibility': 'private'}))

    def test_filters(self):
        self.assertEqual([self.mine['id']], self._ids(filters={'tags': ['t1']}))
        self.assertEqual([self.mine['id']],
                         self._ids(filters={'properties': {'os_distro': 'debian'}}))
        self.assertEqual([self.mine['id']], self._ids(filters={'size': [('gte', 50)]}))
        self.assertEqual([self.public['id']],
                         self._ids(filters={'name': [('in', ['public', 'nope'])]}))

    def test_sort_and_paginate(self):
        page = self._ids(is_admin=True, limit=2, sort_keys=['name'], sort_dirs=['asc'])
        rest = self._ids(is_admin=True, marker=page[-1], sort_keys=['name'],
                         sort_dirs=['asc'])
        self.assertEqual(2, len(page))
        self.assertEqual(3, len(rest))
        self.assertFalse(set(page) & set(rest))

    def test_bad_sort_key_and_marker(self):
        self.assertRaises(exception.InvalidSortKey, self._ids, sort_keys=['password'])
        self.assertRaises(exception.ImageNotFound, self._ids, marker=str(uuid.uuid4()))


def _reference_order(images, keys, dirs):
    """What the list promises, in Python: NULL before every value, first when ascending."""
    ordered = list(images)
    for key, direction in reversed(list(zip(keys, dirs))):
        ordered.sort(key=lambda i: (i[key] is not None, i[key] if i[key] is not None else 0),
                     reverse=direction == 'desc')
    return [i['id'] for i in ordered]


@base.on_every_engine
class TestImageListOrder(base.DbTestCase):
    """Every order the API allows, whole and page by page, the same on every engine.

    The catalogue has NULLs in nullable sort keys, equal values, and images created in the
    same second (ties broken by created_at, then id). Names are lower-case ASCII, which
    every engine's collation orders alike.
    """

    ORDERS = [
        (['created_at'], ['desc']), (['created_at'], ['asc']),
        (['name'], ['asc']), (['name'], ['desc']),
        (['size'], ['asc']), (['size'], ['desc']),
        (['updated_at'], ['desc']), (['status'], ['asc']), (['id'], ['desc']),
        (['protected'], ['desc']), (['min_ram'], ['asc']), (['visibility'], ['desc']),
        (['name', 'size'], ['asc', 'desc']), (['size', 'name'], ['desc', 'desc']),
        (['size', 'name'], ['asc', 'asc']), (['status', 'size'], ['desc', 'asc']),
        (['owner', 'min_disk', 'name'], ['asc', 'desc', 'asc']),
    ]

    def setUp(self):
        super().setUp()
        base_time = timeutils.utcnow().replace(microsecond=0)
        names = ['beta', None, 'alpha', 'beta', None, 'gamma', 'alpha', 'delta', 'beta']
        sizes = [10, None, 10, 5, None, 7, 30, None, 10]
        self.images = []
        for i in range(18):
            values = _image(
                name=names[i % len(names)], size=sizes[(i * 5) % len(sizes)],
                status=('active', 'queued')[i % 2], visibility=('public', 'shared')[i % 2],
                owner=('p1', 'p2', None)[i % 3], protected=i % 4 == 0, min_ram=i % 3,
                min_disk=i % 2, created_at=base_time + datetime.timedelta(seconds=i // 3),
                updated_at=(base_time + datetime.timedelta(seconds=i % 4)
                            if i % 5 else None))
            db_api.image_create(values)
            self.images.append(db_api.image_get(values['id']))

    def _pages(self, keys, dirs, size, filters=None, project_id=None):
        """The ids of the whole list, read page by page (as admin unless a project)."""
        ids, marker = [], None
        for _ in range(len(self.images) + 1):
            page = [i['id'] for i in db_api.image_get_all(
                project_id=project_id, is_admin=project_id is None, filters=filters,
                marker=marker, limit=size, sort_keys=keys, sort_dirs=dirs)]
            ids.extend(page)
            if len(page) < size:
                return ids
            marker = page[-1]
        self.fail('paging did not end')

    def test_every_order_whole_and_paged(self):
        for keys, dirs in self.ORDERS:
            expected = _reference_order(self.images, keys + ['created_at', 'id'],
                                        dirs + [dirs[0]] * 2)
            whole = [i['id'] for i in db_api.image_get_all(is_admin=True, sort_keys=keys,
                                                           sort_dirs=dirs)]
            self.assertEqual(expected, whole, (keys, dirs))
            for size in (1, 4, 7):
                self.assertEqual(expected, self._pages(keys, dirs, size), (keys, dirs, size))

    def test_marker_given_as_its_row(self):
        """The service reads the marker's row once (to check it) and hands it over."""
        expected = _reference_order(self.images, ['size', 'created_at', 'id'], ['asc'] * 3)
        for at in (0, 3, 10):
            row = db_api.image_row(expected[at])
            after = [i['id'] for i in db_api.image_get_all(
                is_admin=True, marker=row, limit=5, sort_keys=['size'], sort_dirs=['asc'])]
            self.assertEqual(expected[at + 1:at + 6], after)

    def test_filters_with_paging(self):
        db_api.image_update(self.images[3]['id'], {}, tags=['rare'],
                            properties={'os_distro': 'arch'})
        db_api.image_update(self.images[8]['id'], {}, tags=['rare', 'x'],
                            properties={'os_distro': 'arch'})
        db_api.image_update(self.images[9]['id'], {}, tags=['x'],
                            properties={'os_distro': 'debian'})
        for filters in ({'tags': ['rare']}, {'properties': {'os_distro': 'arch'}}):
            first = db_api.image_get_all(is_admin=True, filters=filters, limit=1)
            rest = db_api.image_get_all(is_admin=True, filters=filters,
                                        marker=first[0]['id'])
            self.assertEqual([self.images[8]['id'], self.images[3]['id']],
                             [i['id'] for i in first + rest])
        both = db_api.image_get_all(is_admin=True, filters={'tags': ['rare', 'x']})
        self.assertEqual([self.images[8]['id']], [i['id'] for i in both])
        # a member sees a shared image through its membership, by status; public ones anyway
        shared, public = self.images[9], self.images[8]
        db_api.image_member_create(shared['id'], 'p9', status='accepted')
        seen = db_api.image_get_all(project_id='p9', filters={'tags': ['x']})
        self.assertEqual([shared['id'], public['id']], [i['id'] for i in seen])
        self.assertEqual([public['id']], [i['id'] for i in db_api.image_get_all(
            project_id='p9', filters={'tags': ['x']}, member_status='pending')])

    def _tag_every_other(self):
        """Tags and properties on images created in the same second (ties).

        Some images shared, some public: "even" (and parity=even) on every other image,
        "third" (and third=yes) on every third.
        """
        for n, image in enumerate(self.images):
            tags = ['even'] if n % 2 == 0 else []
            properties = {'parity': 'even' if n % 2 == 0 else 'odd'}
            if n % 3 == 0:
                tags.append('third')
                properties['third'] = 'yes'
            db_api.image_update(image['id'], {}, tags=tags, properties=properties)
        return [i for n, i in enumerate(self.images) if n % 2 == 0]

    EVEN = ({'tags': ['even']}, {'properties': {'parity': 'even'}})
    BOTH = ({'tags': ['even', 'third']}, {'properties': {'parity': 'even', 'third': 'yes'}},
            {'tags': ['even'], 'properties': {'third': 'yes'}})

    def test_tag_and_property_filters_in_date_order_follow_their_rows(self):
        """The rows' own order (ix_image_tags_list, ix_image_properties_list).

        Whole, paged, both directions.
        """
        from glance.db import image_list
        even = self._tag_every_other()
        default = (['created_at', 'id'], ['desc', 'desc'])
        with self.engine.connect() as conn:
            self.assertEqual(('tag', 'even'), image_list.ordering_filter(
                conn, *default, {'tags': ['even', 'third'], 'properties': {'a': 'b'}}))
            self.assertEqual(('property', ('parity', 'even')), image_list.ordering_filter(
                conn, *default, {'properties': {'parity': 'even'}}))
            self.assertIsNone(image_list.ordering_filter(
                conn, ['size', 'created_at', 'id'], ['asc'] * 3, {'tags': ['even']}))
        both = [i for n, i in enumerate(self.images) if n % 6 == 0]
        for dirs in (['desc'], ['asc']):
            expected = _reference_order(even, ['created_at', 'id'], dirs * 2)
            for filters in self.EVEN:
                for size in (1, 4, 100):
                    self.assertEqual(expected, self._pages(None, dirs, size, filters),
                                     (filters, dirs, size))
            for filters in self.BOTH:
                self.assertEqual(_reference_order(both, ['created_at', 'id'], dirs * 2),
                                 self._pages(None, dirs, 2, filters), filters)
        # a member: public images and the shared ones it accepted
        for image in even[1:4]:
            if image['visibility'] == 'shared':
                db_api.image_member_create(image['id'], 'p9', status='accepted')
        seen = [i for i in even if i['visibility'] == 'public' or i in even[1:4]]
        for filters in self.EVEN:
            self.assertEqual(_reference_order(seen, ['created_at', 'id'], ['desc'] * 2),
                             self._pages(None, ['desc'], 3, filters, 'p9'))
        for filters in ({'tags': ['nobody']}, {'properties': {'parity': 'none'}}):
            self.assertEqual([], self._pages(None, ['desc'], 3, filters))

    def test_tag_and_property_rows_carry_their_images_creation_time(self):
        self._tag_every_other()
        db_api.image_create(_image(tags=['new'], properties={'new': 'yes'}))
        db_api.image_activate(self.images[1]['id'], {}, {'url': 'file:///x', 'metadata': {}},
                              from_state='queued', properties={'added': 'at activation'})
        # a row added by its image's id alone, not through the image object
        with db_api._session(write=True) as session:
            session.add(models.ImageTag(image_id=self.images[2]['id'], value='by-id'))
        for table, count in (('image_tags', 9 + 6 + 1 + 1), ('image_properties', 18 + 6 + 2)):
            with self.engine.connect() as conn:
                rows = conn.execute(sa.text(
                    'SELECT count(*), sum(CASE WHEN t.image_created_at = i.created_at THEN 1 '
                    'ELSE 0 END) FROM %s t JOIN images i ON i.id = t.image_id'
                    % table)).one()
            self.assertEqual(count, rows[0], table)
            self.assertEqual(rows[0], rows[1], table)

    def test_filters_before_the_contract_step(self):
        """Without the ordered indexes (not contracted yet) the general plan answers alike.

        Rows without a creation time (written by the old code) included.
        """
        from glance.db import image_list
        even = self._tag_every_other()
        meta = sa.MetaData()
        with self.engine.begin() as conn:
            for table, index in (('image_tags', 'ix_image_tags_list'),
                                 ('image_properties', 'ix_image_properties_list')):
                column = sa.Table(table, meta, sa.Column('name', sa.String(255))).c.name
                conn.execute(sa.schema.DropIndex(sa.Index(index, column)))
                conn.execute(sa.text('UPDATE %s SET image_created_at = NULL' % table))
        image_list._INDEXES.clear()
        self.addCleanup(image_list._INDEXES.clear)
        default = (['created_at', 'id'], ['desc', 'desc'])
        for filters in self.EVEN:
            with self.engine.connect() as conn:
                self.assertIsNone(image_list.ordering_filter(conn, *default, filters))
            for dirs in (['desc'], ['asc']):
                self.assertEqual(_reference_order(even, ['created_at', 'id'], dirs * 2),
                                 self._pages(None, dirs, 4, filters))
        # the contract step, while the service runs: it takes the ordered plan up once it
        # looks again (at most a minute later)
        with self.engine.begin() as conn:
            conn.execute(sa.text('UPDATE image_tags SET image_created_at = (SELECT '
                                 'created_at FROM images WHERE images.id = image_id)'))
            tags = sa.Table('image_tags', sa.MetaData(), sa.Column('value', sa.String(255)),
                            sa.Column('image_created_at', sa.DateTime),
                            sa.Column('image_id', sa.String(36)))
            sa.Index('ix_image_tags_list', tags.c.value, tags.c.image_created_at,
                     tags.c.image_id).create(conn)
        with self.engine.connect() as conn:
            self.assertIsNone(image_list.ordering_filter(conn, *default, self.EVEN[0]))
            with mock.patch.object(image_list, '_INDEX_RECHECK', 0):
                self.assertEqual(('tag', 'even'),
                                 image_list.ordering_filter(conn, *default, self.EVEN[0]))
        self.assertEqual(_reference_order(even, ['created_at', 'id'], ['desc'] * 2),
                         self._pages(None, ['desc'], 4, self.EVEN[0]))

    def test_paging_without_the_list_indexes(self):
        """Code newer than the schema (before db expand) still lists, only slower.

        On MariaDB a page after a marker names the order's index in a hint, which must not
        be given when the index is not there.
        """
        # (an Index on the models' own table would join the models' metadata for good)
        images = sa.Table('images', sa.MetaData(), sa.Column('deleted', sa.Boolean))
        with self.engine.begin() as conn:
            for name in ('ix_images_list_created_at', 'ix_images_list_size'):
                conn.execute(sa.schema.DropIndex(sa.Index(name, images.c.deleted)))
        for keys, dirs in ((['created_at'], ['desc']), (['size'], ['asc'])):
            expected = _reference_order(self.images, keys + ['created_at', 'id'],
                                        dirs + [dirs[0]] * 2)
            self.assertEqual(expected, self._pages(keys, dirs, 5), keys)

    def test_limit_zero_and_name_filter_in_date_order(self):
        self.assertEqual([], db_api.image_get_all(is_admin=True, limit=0))
        betas = [i for i in self.images if i['name'] == 'beta']
        self.assertEqual(_reference_order(betas, ['created_at', 'id'], ['desc'] * 2),
                         [i['id'] for i in db_api.image_get_all(
                             is_admin=True, filters={'name': [('eq', 'beta')]})])


@base.on_every_engine
class TestMembers(base.DbTestCase):

    def test_member_lifecycle(self):
        image = db_api.image_create(_image())
        db_api.image_member_create(image['id'], 'p2')
        self.assertRaises(exception.Duplicate, db_api.image_member_create, image['id'], 'p2')
        self.assertEqual('accepted',
                         db_api.image_member_update(image['id'], 'p2', 'accepted')['status'])
        self.assertEqual(['p2'], [m['member'] for m in
                                  db_api.image_member_find(image_id=image['id'])])
        db_api.image_member_delete(image['id'], 'p2')
        self.assertRaises(exception.MemberNotFound, db_api.image_member_delete,
                          image['id'], 'p2')


def _write_images(url, count, queue):
    """Child process: create and update images as fast as it can."""
    try:
        db_api.dispose()
        db_api.configure(connection=url)
        for _ in range(count):
            image = db_api.image_create(_image(properties={'k': 'v'}))
            db_api.image_update(image['id'], {'status': 'saving'}, from_state='queued')
        queue.put(None)
    except Exception as e:  # reported to the parent, which fails the test
        queue.put(repr(e))


class TestSQLiteConcurrentWriters(base.DbTestCase):
    """Several processes writing one SQLite file, as workers and background jobs do."""

    def test_no_database_is_locked(self):
        path = os.path.join(tempfile.mkdtemp(), 'glance.sqlite')
        url = 'sqlite:///%s' % path
        saved = db_api._main
        self.addCleanup(setattr, db_api, '_main', saved)
        db_api.configure(connection=url)
        migration.sync(db_api.get_engine())
        ctx = multiprocessing.get_context('fork')
        queue = ctx.Queue()
        procs = [ctx.Process(target=_write_images, args=(url, 40, queue)) for _ in range(4)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(30)
        self.assertEqual([None] * 4, results)
        self.assertEqual(160, db_api.image_count('p1'))
