"""The import, task and store commands of the real glanceclient and openstackclient.

Without Keystone (the noauth flavor, whose default roles are admin, member and reader):
``glance image-create-via-import`` (glance-direct and web-download), ``image-stage`` +
``image-import``, ``import-info``, ``stores-info --detail``, ``stores-delete``,
``image-tasks``, ``task-list``, ``task-show``, ``openstack image create --import``,
``image stage``, ``image import``, ``image import info``, ``image task list``, and
openstacksdk's ``create_image(use_import=True)``.
"""

import hashlib
import json
import os
import time

import openstack

from glance.tests.functional.image_import import source as source_server
from glance.tests.functional.v2 import test_clients


class TestImportWithClients(source_server.ClassSource, test_clients.ClientTest):

    server_kwargs = {
        'common_conf': {
            'DEFAULT': {'enabled_backends': 'fast:file,cheap:file'},
            'glance_store': {'default_backend': 'fast'},
            'fast': {'filesystem_store_datadir': '$state_path/stores/fast'},
            'cheap': {'filesystem_store_datadir': '$state_path/stores/cheap'}},
        'api_conf': {'import_filtering_opts': {'allowed_ports': '',
                                               'allowed_private_hosts': 'localhost'}}}

    def wait_active(self, image_id, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            image = self.openstack_json('image', 'show', image_id)
            if image['status'] in ('active', 'queued'):
                return image
            time.sleep(0.5)
        self.fail('image %s never settled' % image_id)

    def test_glance_create_via_import_then_copy_and_delete_a_store_copy(self):
        image = self.glance_json('image-create-via-import', '--disk-format', 'raw',
                                 '--container-format', 'bare', '--name', 'via-import',
                                 '--import-method', 'glance-direct', '--file', self.data_path)
        image = self.wait_active(image['id'])
        stores = image.get('stores') or image.get('properties', {}).get('stores')
        self.assertEqual(('active', 'fast'), (image['status'], stores))
        saved = os.path.join(self.tmp, 'saved')
        self.glance('image-download', '--file', saved, image['id'])
        self.assertTrue(self.same_bytes(saved))

        self.glance('image-import', '--import-method', 'copy-image', '--stores', 'cheap',
                    image['id'])
        deadline = time.monotonic() + 60
        while 'cheap' not in self.glance_json('image-show', image['id']).get('stores', ''):
            self.assertLess(time.monotonic(), deadline, 'copy-image never finished')
            time.sleep(0.5)
        tasks = self.glance('image-tasks', image['id']).stdout
        self.assertEqual(2, tasks.count('| success'), tasks)
        self.assertIn('Imported into cheap', tasks)

        detail = self.glance('stores-info', '--detail').stdout
        self.assertIn('cheap', detail)
        self.assertIn('datadir', detail)
        self.glance('stores-delete', '--store', 'cheap', image['id'])
        self.assertEqual('fast', self.glance_json('image-show', image['id'])['stores'])

        listed = self.glance('task-list').stdout
        self.assertIn('api_image_import', listed)
        task_id = [line.split('|')[1].strip() for line in listed.splitlines()
                   if 'api_image_import' in line][0]
        self.assertIn('success', self.glance('task-show', task_id).stdout)

    def test_glance_stage_import_and_web_download(self):
        image = self.glance_json('image-create', '--disk-format', 'raw',
                                 '--container-format', 'bare')
        self.glance('image-stage', '--file', self.data_path, image['id'])
        self.assertEqual('uploading', self.glance_json('image-show', image['id'])['status'])
        self.glance('image-import', '--import-method', 'glance-direct', image['id'])
        self.assertEqual('active', self.wait_active(image['id'])['status'])
        self.assertIn('web-download', self.glance('import-info').stdout)

        with open(self.data_path, 'rb') as f:
            self.source.bodies['cli'] = f.read()
        web = self.glance_json('image-create-via-import', '--disk-format', 'raw',
                               '--container-format', 'bare', '--import-method',
                               'web-download', '--uri',
                               self.source.url('/data/cli', host='localhost'))
        web = self.wait_active(web['id'])
        self.assertEqual('active', web['status'])
        saved = os.path.join(self.tmp, 'web')
        self.glance('image-download', '--file', saved, web['id'])
        self.assertTrue(self.same_bytes(saved))

    def test_openstack_create_import_stage_and_task_list(self):
        created = self.openstack_json('image', 'create', '--import', '--disk-format', 'raw',
                                      '--container-format', 'bare', '--file', self.data_path,
                                      'osc-import')
        self.assertEqual('active', self.wait_active(created['id'])['status'])

        # (openstackclient would upload its stdin into an image it creates without --file)
        staged = self.glance_json('image-create', '--disk-format', 'raw',
                                  '--container-format', 'bare', '--name', 'osc-stage')
        self.openstack('image', 'stage', '--file', self.data_path, staged['id'])
        self.openstack('image', 'import', '--method', 'glance-direct', staged['id'])
        self.assertEqual('active', self.wait_active(staged['id'])['status'])

        info = self.openstack_json('image', 'import', 'info')
        self.assertIn('glance-direct', json.dumps(info))
        tasks = self.openstack_json('image', 'task', 'list')
        self.assertTrue(any(t.get('Type') == 'api_image_import' or
                            t.get('type') == 'api_image_import' for t in tasks), tasks)

    def test_openstacksdk_create_image_with_import(self):
        conn = openstack.connect(auth_type='none', image_endpoint_override=self.servers.api_url,
                                 load_yaml_config=False, load_envvars=False)
        self.addCleanup(conn.close)
        image = conn.create_image('sdk-import', filename=self.data_path, disk_format='raw',
                                  container_format='bare', use_import=True)
        # (what create_image returns may predate the stage and import it made)
        deadline = time.monotonic() + 60
        image = conn.image.get_image(image.id)
        while image.status != 'active':
            self.assertIn(image.status, ('uploading', 'importing'))
            self.assertLess(time.monotonic(), deadline, 'the import never finished')
            time.sleep(0.3)
            image = conn.image.get_image(image.id)
        with open(self.data_path, 'rb') as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(), image.checksum)
