"""The versions document advertises exactly the Images API versions whose features exist.

For every minor version the server advertises there is a probe here that uses that
version's feature on a running glance-api (and glance-stream, for the cache API), and every
probe's version is advertised: a version cannot be added to glance/api/versions.py without
its feature working, nor a feature probed here without its version being advertised.
"""

import hashlib
import os
import uuid

import glanceclient

from glance.api import versions
from glance.tests.functional.data import test_data_path
from glance.tests.functional.image_import import base

ADMIN = 'admin,member,reader'


class TestVersionsFollowFeatures(base.ImportTest):

    server_kwargs = {'common_conf': {
        'DEFAULT': {'enabled_backends': 'fast:file,cheap:file'},
        'glance_store': {'default_backend': 'fast'},
        'fast': {'filesystem_store_datadir': '$state_path/stores/fast'},
        'cheap': {'filesystem_store_datadir': '$state_path/stores/cheap'}}}

    def call(self, method, path, expect, roles=ADMIN, project=None, headers=None, **kwargs):
        resp = self.session.request(method, self.servers.api_url + path,
                                    headers=self.headers(project, roles, **(headers or {})),
                                    **kwargs)
        self.assertEqual(expect, resp.status_code, '%s %s: %s' % (method, path, resp.text))
        return resp

    def active_image(self, **body):
        image = self.create(**body)
        self.upload(image['id'], os.urandom(1024))
        return image

    def probe_0(self):
        image = self.active_image()
        self.call('PUT', '/v2/images/%s/tags/t' % image['id'], 204)
        self.call('GET', '/v2/schemas/image', 200)

    def probe_1(self):
        image = self.create(visibility='shared')
        self.call('POST', '/v2/images/%s/members' % image['id'], 200, json={'member': 'p2'})

    def probe_2(self):
        image = self.create(visibility='shared')
        self.call('POST', '/v2/images/%s/members' % image['id'], 200, json={'member': 'p2'})
        self.call('PUT', '/v2/images/%s/members/p2' % image['id'], 200, project='p2',
                  roles='member,reader', json={'status': 'accepted'})

    def probe_3(self):
        self.call('GET', '/v2/images?sort=name:asc,created_at:desc&status=in:active,queued',
                  200)

    def probe_4(self):
        self.assertIn('tasks', self.call('GET', '/v2/tasks', 200).json())

    def probe_5(self):
        self.assertEqual('community', self.create(visibility='community')['visibility'])

    def probe_6(self):
        image = self.create()
        self.stage(image['id'], os.urandom(2048))
        self.import_(image['id'])
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        self.assertIn('glance-direct', self.call('GET', '/v2/info/import', 200).json()[
            'import-methods']['value'])

    def probe_7(self):
        image = self.active_image(os_hidden=True)
        shown = self.show(image['id'])
        self.assertEqual((True, 'sha512'), (shown['os_hidden'], shown['os_hash_algo']))

    def probe_8(self):
        resp = self.call('POST', '/v2/images', 201,
                         json={'disk_format': 'raw', 'container_format': 'bare'})
        self.assertEqual('fast,cheap', resp.headers['OpenStack-image-store-ids'])
        self.call('PUT', '/v2/images/%s/file' % resp.json()['id'], 204, data=b'x' * 99,
                  headers={'X-Image-Meta-Store': 'cheap',
                           'Content-Type': 'application/octet-stream'})
        self.assertEqual('cheap', self.show(resp.json()['id'])['stores'])
        self.call('GET', '/v2/info/stores', 200)

    def copied_image(self):
        image = self.active_image()
        self.import_(image['id'], method='copy-image', all_stores=True, roles=ADMIN)
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        return image

    def probe_9(self):
        image = self.copied_image()
        shown = self.show(image['id'])
        self.assertEqual(('fast,cheap', '', ''),
                         (shown['stores'], shown['os_glance_importing_to_stores'],
                          shown['os_glance_failed_import']))

    def probe_10(self):
        image = self.copied_image()
        self.call('DELETE', '/v2/stores/cheap/%s' % image['id'], 204)
        self.assertEqual('fast', self.show(image['id'])['stores'])

    def probe_11(self):
        image = self.create()
        self.call('PATCH', '/v2/images/%s' % image['id'], 403,
                  json=[{'op': 'add', 'path': '/os_glance_import_task', 'value': 'x'}],
                  headers={'Content-Type': 'application/openstack-images-v2.1-json-patch'})
        self.stage(image['id'], os.urandom(100))
        self.import_(image['id'])
        task = self.wait_task(image['id'])
        self.assertNotIn('os_glance_import_task', self.show(image['id']))
        self.assertEqual(image['id'], task['input']['image_id'])

    def probe_12(self):
        image = self.copied_image()
        self.assertEqual(['api_image_import'],
                         [t['type'] for t in self.image_tasks(image['id'])])

    def probe_13(self):
        usage = self.call('GET', '/v2/info/usage', 200).json()['usage']
        self.assertEqual({'image_size_total', 'image_count_total', 'image_stage_total',
                          'image_count_uploading'}, set(usage))
        self.assertGreaterEqual(usage['image_count_total']['usage'], 0)

    def probe_14(self):
        self.call('GET', '/v2/cache', 200)
        client = glanceclient.Client('2', endpoint=self.servers.api_url, token='unused')
        client.http_client.session.headers.update({'X-Roles': ADMIN,
                                                   'X-Project-Id': self.project})
        self.assertIn('cached_images', client.cache.list())

    def probe_15(self):
        stores = self.call('GET', '/v2/info/stores/detail', 200).json()['stores']
        self.assertEqual({'fast', 'cheap'}, {s['id'] for s in stores})

    def probe_16(self):
        image = self.active_image()
        self.call('PUT', '/v2/cache/%s' % image['id'], 202)

        def cached():
            listed = self.call('GET', '/v2/cache', 200).json()['cached_images']
            return image['id'] in [c['image_id'] for c in listed]
        self.assertTrue(test_data_path.wait_for(cached, 30), 'never cached')

    def probe_17(self):
        data = os.urandom(4096)
        path = os.path.join(self.servers.state, 'stores', 'fast', 'registered-%s'
                            % uuid.uuid4().hex)
        with open(path, 'wb') as f:
            f.write(data)
        image = self.create()
        self.call('POST', '/v2/images/%s/locations' % image['id'], 202,
                  json={'url': 'file://' + path})
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        shown = self.show(image['id'])
        self.assertEqual(('active', hashlib.sha512(data).hexdigest()),
                         (shown['status'], shown['os_hash_value']))
        locations = self.call('GET', '/v2/images/%s/locations' % image['id'], 200,
                              roles='service').json()
        self.assertEqual(['file://' + path], [loc['url'] for loc in locations])

    def test_every_advertised_version_has_its_features_and_no_more(self):
        body = self.call('GET', '/versions', 200).json()
        advertised = sorted(int(v['id'].split('.')[1]) for v in body['versions'])
        probed = sorted(int(name.split('_')[1]) for name in dir(self)
                        if name.startswith('probe_'))
        self.assertEqual(probed, advertised)
        self.assertEqual(versions.MINOR_VERSIONS, advertised)
        self.assertEqual([('v2.%d' % versions.CURRENT_MINOR, 'CURRENT')],
                         [(v['id'], v['status']) for v in body['versions']
                          if v['status'] == 'CURRENT'])
        for minor in advertised:
            try:
                getattr(self, 'probe_%d' % minor)()
            except AssertionError as e:
                raise AssertionError('v2.%d (%s): %s' % (
                    minor, versions.VERSION_FEATURES[minor], e))
        # a version beyond the last one is not served
        self.call('GET', '/v2.%d/images' % (versions.CURRENT_MINOR + 1), 300)
