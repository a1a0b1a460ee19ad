"""Tasks, the import lock and task take-over, on SQLite, PostgreSQL and MariaDB."""

import datetime
import uuid

from glance.common import exception
from glance.db import api as db_api
from glance.db import models
from glance.image import task_runner
from glance.tests.unit.db import base


def _task(**values):
    task = {'id': str(uuid.uuid4()), 'type': 'api_image_import', 'status': 'pending',
            'owner': 'p1', 'input': {'image_id': 'i', 'backend': ['local']}}
    task.update(values)
    return task


@base.on_every_engine
class TestTasks(base.DbTestCase):

    def test_create_get_update_with_json_input_and_result(self):
        created = db_api.task_create(_task())
        self.assertEqual({'image_id': 'i', 'backend': ['local']}, created['input'])
        updated = db_api.task_update(created['id'], {'status': 'processing', 'holder': 'h:1:b',
                                                     'progress': 5 * 2 ** 40},
                                     from_status='pending')
        self.assertEqual((5 * 2 ** 40, 'h:1:b'), (updated['progress'], updated['holder']))
        db_api.task_update(created['id'], {'status': 'success', 'result': {'image_id': 'i'}})
        got = db_api.task_get(created['id'])
        self.assertEqual(('success', {'image_id': 'i'}), (got['status'], got['result']))

    def test_compare_and_set_status(self):
        task = db_api.task_create(_task(status='failure'))
        self.assertRaises(exception.Conflict, db_api.task_update, task['id'],
                          {'status': 'success'}, from_status=('pending', 'processing'))
        self.assertEqual('failure', db_api.task_get(task['id'])['status'])
        self.assertRaises(exception.TaskNotFound, db_api.task_get, str(uuid.uuid4()))

    def test_list_by_owner_filters_and_pages(self):
        mine = [db_api.task_create(_task(image_id='img-%d' % i)) for i in range(3)]
        db_api.task_create(_task(owner='p2'))
        self.assertEqual(3, len(db_api.task_get_all(owner='p1')))
        self.assertEqual(4, len(db_api.task_get_all()))
        self.assertEqual([mine[1]['id']], [t['id'] for t in db_api.task_get_all(
            filters={'image_id': 'img-1'})])
        first = db_api.task_get_all(owner='p1', limit=2, sort_key='id', sort_dir='asc')
        rest = db_api.task_get_all(owner='p1', limit=2, sort_key='id', sort_dir='asc',
                                   marker=first[-1]['id'])
        self.assertEqual(sorted(t['id'] for t in mine),
                         [t['id'] for t in first + rest])
        self.assertRaises(exception.InvalidSortKey, db_api.task_get_all, sort_key='input')

    def test_expired_tasks_are_deleted(self):
        now = models.now()
        old = db_api.task_create(_task(status='success',
                                       expires_at=now - datetime.timedelta(hours=1)))
        young = db_api.task_create(_task(status='success',
                                         expires_at=now + datetime.timedelta(hours=1)))
        running = db_api.task_create(_task())
        self.assertEqual(1, db_api.tasks_delete_expired(now))
        self.assertRaises(exception.TaskNotFound, db_api.task_get, old['id'])
        self.assertEqual({young['id'], running['id']},
                         {t['id'] for t in db_api.task_get_all()})
        self.assertEqual([running['id']],
                         [t['id'] for t in db_api.tasks_in_status(('pending',))])


@base.on_every_engine
class TestImportLock(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.image = db_api.image_create({
            'id': str(uuid.uuid4()), 'status': 'uploading', 'visibility': 'shared',
            'owner': 'p1', 'min_disk': 0, 'min_ram': 0, 'protected': False,
            'os_hidden': False, 'properties': {'keep': 'me'}})

    def test_lock_is_a_compare_and_set(self):
        image_id = self.image['id']
        locked = db_api.image_change_properties(
            image_id, {'os_glance_import_task': 't1'}, values={'status': 'importing'},
            from_state='uploading', expect={'os_glance_import_task': None})
        self.assertEqual(('importing', 't1', 'me'),
                         (locked['status'], locked['properties']['os_glance_import_task'],
                          locked['properties']['keep']))
        self.assertRaises(exception.Conflict, db_api.image_change_properties, image_id,
                          {'os_glance_import_task': 't2'},
                          expect={'os_glance_import_task': None})
        released = db_api.image_change_properties(
            image_id, {'os_glance_import_task': None},
            expect={'os_glance_import_task': 't1'})
        self.assertNotIn('os_glance_import_task', released['properties'])
        self.assertRaises(exception.Conflict, db_api.image_change_properties, image_id,
                          {}, from_state='queued')

    def test_activate_from_importing_records_properties(self):
        image_id = self.image['id']
        db_api.image_change_properties(image_id, {'os_glance_import_task': 't1'},
                                       values={'status': 'importing'})
        active = db_api.image_activate(
            image_id, {'size': 3}, {'url': 'file:///x', 'metadata': {'store': 'local'}},
            from_state='importing', properties={'os_glance_import_task': None,
                                                'os_glance_failed_import': ''})
        self.assertEqual('active', active['status'])
        self.assertEqual({'keep': 'me', 'os_glance_failed_import': ''}, active['properties'])
        self.assertRaises(exception.Conflict, db_api.image_activate, image_id, {},
                          {'url': 'file:///y', 'metadata': {}}, from_state='importing')


@base.on_every_engine
class TestTaskTakeOver(base.DbTestCase):
    """A resumable task whose runner died is taken over by exactly one sweeper."""

    def test_take_over_is_a_compare_and_set_on_the_runner(self):
        task = db_api.task_create(_task(type='location_import'))
        running = db_api.task_update(task['id'], {'status': 'processing', 'holder': 'h:1:b'},
                                     from_status='pending')
        self.assertTrue(task_runner.take_over(running))
        self.assertFalse(task_runner.take_over(running))  # a second sweeper's stale view
        got = db_api.task_get(task['id'])
        self.assertEqual(('pending', None), (got['status'], got['holder']))
        self.assertIn('Resumed', got['message'])
        self.assertRaises(exception.Conflict, db_api.task_update, task['id'], {},
                          from_status='pending', from_holder='h:1:b')

    def test_recover_resumes_what_it_can_and_fails_the_rest(self):
        resumable = db_api.task_create(_task(type='location_import'))
        other = db_api.task_create(_task())
        for task in (resumable, other):
            db_api.task_update(task['id'], {'status': 'processing', 'holder': 'gone:1:b',
                                            'heartbeat_at': models.now()})
        resumed, cleaned = [], []
        count = task_runner.recover({'api_image_import': lambda t, m: cleaned.append(t['id'])},
                                    lambda holder, beat: True,
                                    {'location_import': lambda t: resumed.append(t)})
        self.assertEqual(2, count)
        self.assertEqual([(resumable['id'], 'pending')],
                         [(t['id'], t['status']) for t in resumed])
        self.assertEqual([other['id']], cleaned)
        self.assertEqual('failure', db_api.task_get(other['id'])['status'])
