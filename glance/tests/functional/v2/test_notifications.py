"""A notification consumer (as Ceilometer is one) sees every image event, through RabbitMQ.

The servers send with ``[oslo_messaging_notifications] driver = messagingv2`` to the
machine's RabbitMQ (127.0.0.1:5672, guest/guest; tools/ensure-rabbitmq.sh starts it); the
test listens with oslo.messaging's own notification listener on an exchange and topic of
its own, and checks each event's type, priority and payload.
"""

import time
import uuid

import requests

from glance.tests.functional import base
from glance.tests.functional import broker

IMAGE_KEYS = {'id', 'name', 'status', 'created_at', 'updated_at', 'min_disk', 'min_ram',
              'protected', 'checksum', 'owner', 'disk_format', 'container_format', 'size',
              'virtual_size', 'is_public', 'visibility', 'properties', 'tags', 'deleted',
              'deleted_at'}
MEMBER_KEYS = {'image_id', 'member_id', 'status', 'created_at', 'updated_at', 'deleted',
               'deleted_at'}
SEND_KEYS = {'bytes_sent', 'image_id', 'owner_id', 'receiver_tenant_id', 'receiver_user_id'}


class _NotificationTest(base.FunctionalTest):
    """Servers that notify to an exchange and topic of the test's own, and a listener."""

    disabled = ''

    def setUp(self):
        suffix = uuid.uuid4().hex[:12]
        self.topic = 'notifications-' + suffix
        self.collector, exchange = broker.listen(self, self.topic)
        conf = {'DEFAULT': {'control_exchange': exchange,
                            'default_publisher_id': 'image.test-node',
                            'transport_url': broker.URL},
                'oslo_messaging_notifications': {'driver': 'messagingv2',
                                                 'topics': self.topic}}
        if self.disabled:
            conf['DEFAULT']['disabled_notifications'] = self.disabled
        self.server_kwargs = {'stream': True, 'common_conf': conf}
        super().setUp()
        self.session = requests.Session()
        self.project = 'p-' + suffix
        self.headers = {'X-Project-Id': self.project, 'X-Roles': 'member,reader',
                        'X-User-Id': 'u-' + suffix}

    def wait_for(self, count, timeout=30):
        return self.collector.wait_for(self, count, timeout)

    def url(self, path):
        return self.servers.api_url + path

    def call(self, method, path, expect, **kwargs):
        headers = dict(self.headers, **kwargs.pop('headers', {}))
        resp = self.session.request(method, self.url(path), headers=headers, **kwargs)
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def run_story(self):
        """Create, patch, upload, download twice, share, unshare, delete one image."""
        image = self.call('POST', '/v2/images', 201, json={
            'name': 'notified', 'disk_format': 'raw', 'container_format': 'bare',
            'os_distro': 'cirros'}).json()
        path = '/v2/images/%s' % image['id']
        self.call('PATCH', path, 200, data='[{"op": "add", "path": "/tags", "value": ["t"]}]',
                  headers={'Content-Type': 'application/openstack-images-v2.1-json-patch'})
        self.call('PUT', path + '/file', 204, data=b'x' * 4096,
                  headers={'Content-Type': 'application/octet-stream'})
        # The second from glance-stream's cache (sendfile): a hit, or, when it comes before
        # the fill has committed the entry (its client already has every byte), a follower.
        for sources in (('fill',), ('hit', 'follow')):
            resp = self.call('GET', path + '/file', 200)
            self.assertEqual(b'x' * 4096, resp.content)
            self.assertIn(resp.headers.get('X-Image-Cache'), sources)
        self.call('PATCH', path, 200,
                  data='[{"op": "replace", "path": "/visibility", "value": "shared"}]',
                  headers={'Content-Type': 'application/openstack-images-v2.1-json-patch'})
        self.call('POST', path + '/members', 200, json={'member': 'friend'})
        self.call('PUT', path + '/members/friend', 200, json={'status': 'accepted'},
                  headers={'X-Project-Id': 'friend'})
        self.call('DELETE', path + '/members/friend', 204)
        self.call('DELETE', path, 204)
        return image['id']


class TestNotifications(_NotificationTest):

    def test_every_event_of_an_image_lifecycle(self):
        image_id = self.run_story()
        self.wait_for(12)
        time.sleep(1)  # nothing more may come
        events = list(self.collector.events)
        # image.send comes from glance-stream, which may send it after the next call
        self.assertEqual(
            ['image.create', 'image.update', 'image.prepare', 'image.upload',
             'image.activate', 'image.update', 'image.member.create',
             'image.member.update', 'image.member.delete', 'image.delete'],
            [e[1] for e in events if e[1] != 'image.send'])
        self.assertEqual(2, [e[1] for e in events].count('image.send'))
        self.assertEqual({'info'}, {e[0] for e in events})
        self.assertEqual({'image.test-node'}, {e[3] for e in events})
        by_type = {}
        for _priority, event_type, payload, _publisher in events:
            by_type.setdefault(event_type, []).append(payload)

        create = by_type['image.create'][0]
        self.assertTrue(IMAGE_KEYS <= set(create), set(create) ^ IMAGE_KEYS)
        self.assertNotIn('locations', create)
        self.assertEqual((image_id, 'queued', self.project, 'notified', False, 'shared'),
                         (create['id'], create['status'], create['owner'], create['name'],
                          create['is_public'], create['visibility']))
        self.assertEqual({'os_distro': 'cirros'}, create['properties'])
        self.assertEqual(['t'], by_type['image.update'][0]['tags'])
        self.assertEqual('queued', by_type['image.prepare'][0]['status'])
        self.assertEqual('local', by_type['image.prepare'][0]['backend'])
        for event_type in ('image.upload', 'image.activate'):
            payload = by_type[event_type][0]
            self.assertEqual(('active', 4096), (payload['status'], payload['size']),
                             event_type)
            self.assertEqual(32, len(payload['checksum']))
            self.assertNotIn('locations', payload)
        for send in by_type['image.send']:
            self.assertEqual({'bytes_sent': 4096, 'image_id': image_id,
                              'owner_id': self.project, 'receiver_tenant_id': self.project,
                              'receiver_user_id': self.headers['X-User-Id']}, send)
        member_events = [by_type['image.member.%s' % a][0]
                         for a in ('create', 'update', 'delete')]
        for payload in member_events:
            self.assertEqual(MEMBER_KEYS, set(payload))
            self.assertEqual((image_id, 'friend'), (payload['image_id'],
                                                    payload['member_id']))
        self.assertEqual(['pending', 'accepted', 'accepted'],
                         [p['status'] for p in member_events])
        self.assertEqual([False, False, True], [p['deleted'] for p in member_events])
        self.assertIsNotNone(member_events[2]['deleted_at'])
        deleted = by_type['image.delete'][0]
        self.assertTrue(IMAGE_KEYS <= set(deleted))
        self.assertEqual((image_id, 'deleted', True), (deleted['id'], deleted['status'],
                                                       deleted['deleted']))
        self.assertTrue(deleted['deleted_at'].endswith('Z'))

    def test_failed_upload_is_an_error(self):
        image = self.call('POST', '/v2/images', 201, json={
            'name': 'refused', 'disk_format': 'qcow2', 'container_format': 'bare'}).json()
        # raw bytes claimed as qcow2: the format inspection refuses the upload
        self.call('PUT', '/v2/images/%s/file' % image['id'], 400, data=b'x' * 4096,
                  headers={'Content-Type': 'application/octet-stream'})
        events = self.wait_for(3)
        self.assertEqual([('info', 'image.create'), ('info', 'image.prepare'),
                          ('error', 'image.upload')], [e[:2] for e in events])
        self.assertIn(image['id'], events[2][2])


class TestDisabledNotifications(_NotificationTest):

    disabled = 'image.send,image.member.*,image.prepare'

    def test_disabled_ones_are_not_sent(self):
        self.run_story()
        self.wait_for(6)
        time.sleep(2)  # the disabled ones would have come by now
        self.assertEqual(['image.create', 'image.update', 'image.upload', 'image.activate',
                          'image.update', 'image.delete'],
                         [e[1] for e in self.collector.events])
