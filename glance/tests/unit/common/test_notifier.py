"""The notifier helpers: what is sent, what disabled_notifications stops, image.send's count.

Notifications go through oslo.messaging's own in-memory ``test`` driver: the real Notifier,
serializer and filtering, without a broker (the broker path is the functional test's).
"""

import datetime

import fixtures

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import oslo_messaging
from oslo_messaging.notify import _impl_test
import testtools

from glance.common import notifier

CONF = cfg.CONF
NOW = datetime.datetime(2026, 12, 3, 6, 0, 0)


def _task(**values):
    task = {'id': 't1', 'type': 'import', 'status': 'pending', 'owner': 'p1',
            'result': None, 'message': '', 'expires_at': None, 'created_at': NOW,
            'updated_at': NOW, 'input': {'import_from': 'http://secret.example/x'}}
    task.update(values)
    return task


class TestNotifier(testtools.TestCase):

    def setUp(self):
        super().setUp()
        oslo_messaging.get_notification_transport(CONF)  # registers its options
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(driver=['test'], group='oslo_messaging_notifications')
        self.conf.config(transport_url='fake:/')
        notifier.reset()
        self.addCleanup(notifier.reset)
        _impl_test.reset()

    def sent(self):
        return [(priority, message['event_type'], message['payload'])
                for _ctxt, message, priority, _retry in _impl_test.NOTIFICATIONS]

    def test_task_events_carry_upstream_payload_without_input(self):
        notifier.task_event(None, 'task.create', _task())
        notifier.task_event(None, 'task.delete', _task(status='success'))
        (priority, event, payload), (_, deleted_event, deleted) = self.sent()
        self.assertEqual(('INFO', 'task.create'), (priority, event))
        self.assertEqual({'id', 'type', 'status', 'result', 'owner', 'message',
                          'expires_at', 'created_at', 'updated_at', 'deleted',
                          'deleted_at'}, set(payload))
        self.assertEqual('2026-12-03T06:00:00Z', payload['created_at'])
        self.assertEqual(('task.delete', True), (deleted_event, deleted['deleted']))
        self.assertIsNotNone(deleted['deleted_at'])

    def test_disabled_by_type_and_by_group(self):
        self.conf.config(disabled_notifications=['image.send', 'image.member.*'])
        self.assertFalse(notifier.enabled('image.send'))
        self.assertFalse(notifier.enabled('image.member.create'))
        self.assertTrue(notifier.enabled('image.member'))  # not in the group it names
        self.assertTrue(notifier.enabled('image.upload'))
        self.conf.config(disabled_notifications=['task.*'])
        notifier.task_event(None, 'task.run', _task())
        self.assertEqual([], self.sent())

    def test_no_driver_sends_nothing(self):
        self.conf.config(driver=[], group='oslo_messaging_notifications')
        notifier.reset()
        notifier.task_event(None, 'task.create', _task())
        self.assertEqual([], self.sent())

    def test_bad_transport_url_turns_notifications_off(self):
        self.conf.config(transport_url='nosuchdriver://x/')
        notifier.reset()
        notifier.task_event(None, 'task.create', _task())  # no exception for the caller
        self.assertIsNone(notifier._notifier())
        self.assertEqual([], self.sent())

    def test_whole_download_is_info_a_cut_one_error(self):
        image = {'id': 'i1', 'owner': 'p1'}
        body = notifier.SentBody(None, image, [b'ab', b'cd'], 4)
        self.assertEqual(b'abcd', b''.join(body))
        body.close()
        body.close()  # reported once
        cut = notifier.SentBody(None, image, [b'ab', b'cd'], 4)
        next(iter(cut))
        cut.close()
        sent = self.sent()
        self.assertEqual(2, len(sent))
        self.assertEqual(('INFO', 'image.send'), sent[0][:2])
        self.assertEqual({'bytes_sent': 4, 'image_id': 'i1', 'owner_id': 'p1',
                          'receiver_tenant_id': None, 'receiver_user_id': None}, sent[0][2])
        self.assertEqual(('ERROR', 'image.send'), sent[1][:2])
        self.assertIn('2 of 4 bytes', sent[1][2])

    def test_sendfile_body_counts_what_the_kernel_sent(self):
        class FileRange(list):
            sendfile_fd, sendfile_offset, sendfile_length = 7, 0, 4

        body = notifier.SentBody(None, {'id': 'i1', 'owner': 'p1'}, FileRange(), 4)
        self.assertEqual((7, 0, 4), (body.sendfile_fd, body.sendfile_offset,
                                     body.sendfile_length))
        body.sendfile_done()
        body.close()
        self.assertEqual([('INFO', 'image.send', 4)],
                         [(p, e, payload['bytes_sent']) for p, e, payload in self.sent()])


class TestTaskLifecycleEvents(TestNotifier):
    """A task run by glance.image.task_runner notifies run, processing and its end."""

    def setUp(self):
        super().setUp()
        from glance.image import task_runner
        self.task_runner = task_runner
        self.rows = {'t1': _task()}

        def task_update(task_id, values, from_status=None):
            self.rows[task_id] = dict(self.rows[task_id], **values)
            return self.rows[task_id]
        self.useFixture(fixtures.MockPatch('glance.db.api.task_update', task_update))

    def test_success_and_failure(self):
        self.task_runner._execute(_task(), lambda task, progress: {'image_id': 'i'},
                                  lambda task, message: None, 'host:1:boot')
        self.rows['t2'] = _task(id='t2')

        def fails(task, progress):
            raise ValueError('the source went away')
        self.task_runner._execute(_task(id='t2'), fails, lambda task, message: None,
                                  'host:1:boot')
        events = [(event, payload['id'], payload['status'])
                  for _priority, event, payload in self.sent()]
        self.assertEqual([('task.run', 't1', 'pending'),
                          ('task.processing', 't1', 'processing'),
                          ('task.success', 't1', 'success'),
                          ('task.run', 't2', 'pending'),
                          ('task.processing', 't2', 'processing'),
                          ('task.failure', 't2', 'failure')], events)
