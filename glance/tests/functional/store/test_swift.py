"""Images stored in a real Swift, single-tenant: in glance's own account, with glance's own
Keystone credentials (the service model: users never hold the image account's keys)."""

import hashlib
import os

import requests
import swiftclient

from glance.tests.functional import base
from glance.tests.functional import keystone
from glance.tests.functional import services

GLANCE_SWIFT_PASSWORD = services.GLANCE_SWIFT_PASSWORD


class TestSwiftBackend(base.FunctionalTest):

    shared_servers = True

    @classmethod
    def setUpClass(cls):
        services.skip_unless(services.swift_keystone)
        cls.container = 'glance-test-%d' % os.getpid()
        cls.ref_file = os.path.join('/tmp', 'glance-swift-refs-%d.conf' % os.getpid())
        store = services.swift_store(cls.container, cls.ref_file)
        cls.server_kwargs = {'common_conf': services.single_backend('swift', store)}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if os.path.exists(cls.ref_file):
            os.unlink(cls.ref_file)

    def _objects(self):
        conn = swiftclient.Connection(
            authurl=keystone.keystone()['auth_url'], user='glance',
            key=GLANCE_SWIFT_PASSWORD, auth_version='3',
            os_options={'project_name': 'service', 'user_domain_id': 'default',
                        'project_domain_id': 'default'})
        try:
            return [o['name'] for o in conn.get_container(self.container)[1]]
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                return []
            raise

    def test_round_trip_range_and_delete(self):
        headers = {'X-Roles': 'admin,member,reader'}
        image = requests.post(self.servers.api_url + '/v2/images', headers=headers,
                              json={'disk_format': 'raw', 'container_format': 'bare'}).json()
        data = os.urandom(2 * 1024 * 1024 + 3)
        # python-glanceclient style: chunked, size unknown
        chunks = (data[i:i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024))
        resp = requests.put(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            data=chunks, headers=dict(headers, **{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code,
                         '%s\n%s' % (resp.text, self.servers.api.log()[-3000:]))
        self.assertIn(image['id'], self._objects())
        shown = requests.get(self.servers.api_url + '/v2/images/%s' % image['id'],
                             headers=headers).json()
        self.assertEqual(hashlib.sha512(data).hexdigest(), shown['os_hash_value'])
        resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            headers=headers)
        self.assertEqual(data, resp.content)
        resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            headers=dict(headers, Range='bytes=-10'))
        self.assertEqual(data[-10:], resp.content)
        requests.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                        headers=headers)
        self.assertNotIn(image['id'], self._objects())
        for log in (self.servers.api.log(), self.servers.stream.log()):
            self.assertNotIn(GLANCE_SWIFT_PASSWORD, log)
