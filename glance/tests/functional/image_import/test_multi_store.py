"""Two file stores: copy-image between them, the stores property, weights, store details,
deleting one store's copy, and imports into several stores where one of them fails."""

import hashlib
import os
import shutil

from glance.tests.functional.image_import import base

MiB = 1024 * 1024
ADMIN = 'admin,member,reader'


class TestMultiStore(base.ImportTest):

    server_kwargs = {'common_conf': {
        'DEFAULT': {'enabled_backends': 'fast:file,cheap:file'},
        'glance_store': {'default_backend': 'fast'},
        'fast': {'filesystem_store_datadir': '$state_path/stores/fast', 'weight': 10,
                 'store_description': 'Fast disks'},
        'cheap': {'filesystem_store_datadir': '$state_path/stores/cheap', 'weight': 50}}}

    def store_dir(self, name):
        return os.path.join(self.servers.state, 'stores', name)

    def request(self, method, path, roles=ADMIN, **kwargs):
        return self.session.request(method, self.servers.api_url + path,
                                    headers=self.headers(roles=roles), **kwargs)

    def test_copy_image_then_delete_one_copy(self):
        data = os.urandom(3 * MiB + 7)
        image = self.create()
        self.upload(image['id'], data)
        self.assertEqual('fast', self.show(image['id'])['stores'])

        self.import_(image['id'], method='copy-image', all_stores=True, roles=ADMIN)
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(image['id'])
        self.assertEqual(('active', 'fast,cheap', ''),
                         (shown['status'], shown['stores'],
                          shown['os_glance_importing_to_stores']))
        with open(os.path.join(self.store_dir('cheap'), image['id']), 'rb') as f:
            self.assertEqual(hashlib.sha256(data).digest(), hashlib.sha256(f.read()).digest())
        # the heavier store is read first; either copy gives the same bytes
        self.assertEqual(data, self.download(image['id']).content)

        self.import_(image['id'], method='copy-image', stores=['cheap'], roles=ADMIN,
                     expect=409)  # already there
        self.import_(image['id'], method='copy-image', all_stores=True, roles=ADMIN,
                     expect=409)  # nowhere left

        self.assertEqual(403, self.request('DELETE', '/v2/stores/cheap/%s' % image['id'],
                                           roles='member,reader').status_code)
        self.assertEqual(404, self.request('DELETE', '/v2/stores/nowhere/%s'
                                           % image['id']).status_code)
        self.assertEqual(204, self.request('DELETE', '/v2/stores/cheap/%s'
                                           % image['id']).status_code)
        self.assertEqual('fast', self.show(image['id'])['stores'])
        self.assertFalse(os.path.exists(os.path.join(self.store_dir('cheap'), image['id'])))
        self.assertEqual(404, self.request('DELETE', '/v2/stores/cheap/%s'
                                           % image['id']).status_code)
        resp = self.request('DELETE', '/v2/stores/fast/%s' % image['id'])
        self.assertEqual(409, resp.status_code)
        self.assertIn('only copy', resp.text)
        self.assertEqual(data, self.download(image['id']).content)

    def test_the_copy_in_the_heaviest_store_is_read(self):
        data = os.urandom(2 * MiB)
        image = self.create()
        self.upload(image['id'], data)  # into fast (weight 10)
        self.import_(image['id'], method='copy-image', stores=['cheap'], roles=ADMIN)
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        # cheap (weight 50) is read first: the copy in fast is not even needed
        os.unlink(os.path.join(self.store_dir('fast'), image['id']))
        self.assertEqual(data, self.download(image['id']).content)

    def test_stores_are_listed_by_weight_and_detailed_for_admins(self):
        listed = self.request('GET', '/v2/info/stores', roles='member,reader').json()
        self.assertEqual(['cheap', 'fast'], [s['id'] for s in listed['stores']])
        self.assertEqual(403, self.request('GET', '/v2/info/stores/detail',
                                           roles='member,reader').status_code)
        detail = self.request('GET', '/v2/info/stores/detail').json()['stores']
        self.assertEqual([('cheap', 'file', 50), ('fast', 'file', 10)],
                         [(s['id'], s['type'], s['weight']) for s in detail])
        fast = detail[1]
        self.assertEqual((True, 'Fast disks'), (fast['default'], fast['description']))
        self.assertEqual(self.store_dir('fast'), fast['properties']['datadir'])

    def test_import_into_two_stores_and_when_one_fails(self):
        data = os.urandom(2 * MiB)
        image = self.create()
        self.stage(image['id'], data)
        self.import_(image['id'], stores=['fast', 'cheap'])
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        self.assertEqual('fast,cheap', self.show(image['id'])['stores'])

        broken = self.store_dir('cheap')
        shutil.rmtree(broken)
        with open(broken, 'w') as f:
            f.write('not a directory')
        self.addCleanup(os.makedirs, broken)
        self.addCleanup(os.unlink, broken)

        lenient = self.create()
        self.stage(lenient['id'], data)
        self.import_(lenient['id'], stores=['fast', 'cheap'], all_stores_must_succeed=False)
        task = self.wait_task(lenient['id'])
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual(['cheap'], task['result']['failed_stores'])
        shown = self.show(lenient['id'])
        self.assertEqual(('active', 'fast', 'cheap'),
                         (shown['status'], shown['stores'], shown['os_glance_failed_import']))

        strict = self.create()
        self.stage(strict['id'], data)
        self.import_(strict['id'], stores=['fast', 'cheap'])
        task = self.wait_task(strict['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('cheap', task['message'])
        shown = self.show(strict['id'])
        self.assertEqual('queued', shown['status'])
        self.assertNotIn('stores', shown)
        self.assertFalse(os.path.exists(os.path.join(self.store_dir('fast'), strict['id'])))
        self.assertFalse(self.staged(strict['id']))
