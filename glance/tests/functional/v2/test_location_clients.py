"""Locations through the real clients: python-glanceclient and openstacksdk.

``glance add-location`` and openstacksdk's ``add_image_location`` / ``image_locations`` use
the 2.17 calls (both ask the versions document for v2.17 first); ``glance location-add``
and ``location-delete`` the older JSON patch. (openstackclient 10.5, the newest, has no
command for locations.) The noauth flavor here gives every request the admin, member,
reader and service roles; on SQLite, PostgreSQL and MariaDB.
"""

import hashlib
import json
import os
import time
import uuid

import openstack
import requests

from glance.tests.functional import engines
from glance.tests.functional.v2 import test_clients


@engines.on_every_engine
class TestLocationsWithClients(engines.FreshDatabase, test_clients.ClientTest):

    server_kwargs = {'common_conf': {'DEFAULT': {
        'show_multiple_locations': 'true',
        'noauth_roles': 'admin,member,reader,service'}}}

    def put_in_store(self, data):
        path = os.path.join(self.servers.store_dir, 'registered-%s' % uuid.uuid4())
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def location_urls(self, image_id):
        # (glance image-show wraps long cells: the API itself says it plainly)
        shown = requests.get(self.servers.api_url + '/v2/images/%s' % image_id).json()
        return [loc['url'] for loc in shown['locations']]

    def wait_hashed(self, show, timeout=60):
        """The image once its location_import task has recorded its multihash."""
        deadline = time.monotonic() + timeout
        while True:
            image = show()
            if image['status'] != 'importing' and image['os_hash_value']:
                return image
            self.assertLess(time.monotonic(), deadline, 'the location was never hashed')
            time.sleep(0.3)

    def test_glance_add_location_then_location_add_and_delete(self):
        data = os.urandom(1024 * 1024 + 3)
        image = self.glance_json('image-create', '--disk-format', 'raw',
                                 '--container-format', 'bare', '--name', 'by-location')
        url = 'file://' + self.put_in_store(data)
        self.glance('add-location', '--url', url, '--validation-data', json.dumps(
            {'os_hash_algo': 'sha256', 'os_hash_value': hashlib.sha256(data).hexdigest()}),
            image['id'])
        shown = self.wait_hashed(lambda: self.glance_json('image-show', image['id']))
        self.assertEqual(('active', hashlib.md5(data).hexdigest(), 'sha256'),
                         (shown['status'], shown['checksum'], shown['os_hash_algo']))
        out = os.path.join(self.tmp, 'out')
        self.glance('image-download', '--file', out, image['id'])
        with open(out, 'rb') as f:
            self.assertEqual(data, f.read())

        second = 'file://' + self.put_in_store(data)
        self.glance('location-add', '--url', second, '--metadata', '{"copy": "2"}',
                    image['id'])
        self.assertEqual([url, second], self.location_urls(image['id']))
        self.glance('location-delete', '--url', second, image['id'])
        self.assertFalse(os.path.exists(second[len('file://'):]))
        result = self.glance('location-delete', '--url', url, image['id'], expect_ok=False)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('last location', result.stderr + result.stdout)

    def test_glance_add_location_refused_url(self):
        image = self.glance_json('image-create', '--disk-format', 'raw',
                                 '--container-format', 'bare')
        result = self.glance('add-location', '--url', 'file:///etc/passwd', image['id'],
                             expect_ok=False)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('not inside the directory of store local', result.stderr)

    def test_openstacksdk_add_image_location_and_list_them(self):
        data = os.urandom(512 * 1024)
        url = 'file://' + self.put_in_store(data)
        conn = openstack.connect(auth_type='none', image_endpoint_override=self.servers.api_url,
                                 load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        image = conn.image.create_image(name='sdk-location', disk_format='raw',
                                        container_format='bare')
        conn.image.add_image_location(image, url)

        def show():
            found = conn.image.get_image(image.id)
            return {'status': found.status, 'os_hash_value': found.hash_value}
        self.assertEqual({'status': 'active', 'os_hash_value': hashlib.sha512(data).hexdigest()},
                         self.wait_hashed(show))
        self.assertEqual([(url, 'local')], [(loc.url, loc.metadata['store'])
                                            for loc in conn.image.image_locations(image)])
        self.assertEqual(data, conn.image.download_image(image).content)
