"""Stage, then import with glance-direct: the user's story, its refusals, and the tasks.

Real glance-api and glance-stream: the staged data becomes the image, with its MD5,
multihash and piece hashes (glance-stream verifies a download with them), and a task that
anyone who can see the image can follow. Content that is unsafe or not what disk_format
says is refused at stage already; every malformed or ill-timed request is a clear 4xx.
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

from glance.tests.functional.data import test_data_path
from glance.tests.functional.image_import import base

MiB = 1024 * 1024


class TestGlanceDirect(base.ImportTest):

    server_kwargs = {'api_conf': {'DEFAULT': {'image_size_cap': 16 * MiB,
                                              'housekeeping_interval': 1}}}

    def test_stage_then_import_makes_an_active_verified_image(self):
        data = os.urandom(9 * MiB + 5)
        image = self.create(name='direct')
        self.stage(image['id'], data)
        staged = self.show(image['id'])
        self.assertEqual(('uploading', len(data)), (staged['status'], staged['size']))
        self.assertTrue(self.staged(image['id']))

        self.import_(image['id'])
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual('api_image_import', task['type'])
        self.assertEqual(image['id'], task['image_id'])
        self.assertEqual({'image_id': image['id'], 'stores': ['local'], 'failed_stores': []},
                         task['result'])
        self.assertIsNotNone(task['expires_at'])

        shown = self.show(image['id'])
        self.assertEqual('active', shown['status'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(), shown['os_hash_value'])
        self.assertEqual((len(data), len(data)), (shown['size'], shown['virtual_size']))
        self.assertNotIn('os_glance_import_task', shown)
        self.assertEqual('', shown['os_glance_importing_to_stores'])
        self.assertEqual('', shown['os_glance_failed_import'])
        self.assertFalse(self.staged(image['id']))
        with sqlite3.connect(os.path.join(self.servers.dir, 'glance.sqlite')) as db:
            pieces = db.execute('SELECT image_size FROM image_pieces WHERE image_id = ?',
                                (image['id'],)).fetchall()
        self.assertEqual([(len(data),)], pieces)

        resp = self.download(image['id'], Range='bytes=%d-%d' % (8 * MiB, 8 * MiB + 99))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[8 * MiB:8 * MiB + 100], resp.content)
        self.assertEqual(data, self.download(image['id']).content)

    def test_create_announces_the_import_methods_and_stores(self):
        resp = self.session.post(self.servers.api_url + '/v2/images',
                                 json={'disk_format': 'raw', 'container_format': 'bare'},
                                 headers=self.headers())
        self.assertEqual('glance-direct,web-download,copy-image',
                         resp.headers['OpenStack-image-import-methods'])
        self.assertEqual('local', resp.headers['OpenStack-image-store-ids'])
        info = self.session.get(self.servers.api_url + '/v2/info/import',
                                headers=self.headers()).json()
        self.assertEqual(['glance-direct', 'web-download', 'copy-image'],
                         info['import-methods']['value'])

    def test_bad_import_requests_are_clear_4xx(self):
        image = self.create()
        self.import_(image['id'], expect=409)  # nothing staged yet
        self.import_(image['id'], method='no-such-method', expect=400)
        self.import_(image['id'], method='web-download', expect=400)  # no uri
        self.import_('00000000-0000-0000-0000-000000000000', expect=404)
        for body in ({}, {'method': 'glance-direct'}, [1], {'method': {'name': 3}}):
            resp = self.session.post(
                self.servers.api_url + '/v2/images/%s/import' % image['id'], json=body,
                headers=self.headers())
            self.assertEqual(400, resp.status_code, (body, resp.text))
        self.stage(image['id'], os.urandom(MiB))
        self.import_(image['id'], stores=['nowhere'], expect=409)  # as upstream
        self.import_(image['id'], stores='local', expect=400)
        self.import_(image['id'], stores=['local'], all_stores=True, expect=400)
        self.import_(image['id'], all_stores_must_succeed='yes', expect=400)
        self.stage(image['id'], os.urandom(MiB), expect=409)  # staged already
        other = self.create(project='p-other')
        self.import_(image['id'], project='p-other', expect=404)
        self.stage(other['id'], b'x', project=self.project, expect=404)
        reader_only = self.import_(image['id'], roles='reader', expect=403)
        self.assertIn('import', reader_only.text)
        # copy-image is for admins, and for an active image
        self.import_(image['id'], method='copy-image', stores=['local'], expect=403)
        self.assertEqual('uploading', self.show(image['id'])['status'])

    def test_staged_data_of_a_deleted_image_is_removed_by_housekeeping(self):
        image = self.create()
        self.stage(image['id'], os.urandom(MiB))
        resp = self.session.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                                   headers=self.headers())
        self.assertEqual(204, resp.status_code)
        path = os.path.join(self.servers.state, 'staging', image['id'])
        hour_ago = time.time() - 3600
        os.utime(path, (hour_ago, hour_ago))  # past the grace period of fresh files
        self.assertTrue(test_data_path.wait_for(lambda: not os.path.exists(path), 30))

    def test_stage_is_size_capped_and_content_type_checked(self):
        image = self.create()
        resp = self.session.put(self.servers.api_url + '/v2/images/%s/stage' % image['id'],
                                data=b'x', headers=self.headers(**{
                                    'Content-Type': 'application/json'}))
        self.assertEqual(415, resp.status_code)
        self.stage(image['id'], b'\0' * (17 * MiB), expect=413)  # image_size_cap below
        shown = self.show(image['id'])
        self.assertEqual(('queued', None), (shown['status'], shown['size']))
        self.assertFalse(self.staged(image['id']))


class TestStageInspection(base.ImportTest):
    """Unsafe content is refused when it is staged, before any import."""

    server_kwargs = {'stream': False}

    def setUp(self):
        super().setUp()
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed (tools/ensure-packages.sh installs it)')
        self.tmp = tempfile.mkdtemp(prefix='glance-stage-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def qemu_img(self, *args):
        subprocess.run(['qemu-img'] + list(args), check=True, capture_output=True,
                       cwd=self.tmp)

    def read(self, name):
        with open(os.path.join(self.tmp, name), 'rb') as f:
            return f.read()

    def test_qcow2_with_backing_file_and_mislabelled_qcow2_are_refused_at_stage(self):
        self.qemu_img('create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', 'bad.qcow2',
                      '1M')
        self.qemu_img('create', '-f', 'qcow2', 'good.qcow2', '16M')
        for disk_format, name, reason in (('qcow2', 'bad.qcow2', 'backing'),
                                          ('raw', 'bad.qcow2', 'qcow2'),
                                          ('raw', 'good.qcow2', 'not raw')):
            image = self.create(disk_format=disk_format)
            resp = self.stage(image['id'], self.read(name), expect=400)
            self.assertIn(reason, resp.text)
            self.assertEqual('queued', self.show(image['id'])['status'])
            self.assertFalse(self.staged(image['id']))

    def test_a_good_qcow2_gets_its_virtual_size_through_import(self):
        self.qemu_img('create', '-f', 'qcow2', 'good.qcow2', '48M')
        image = self.create(disk_format='qcow2')
        self.stage(image['id'], self.read('good.qcow2'))
        self.import_(image['id'])
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        shown = self.show(image['id'])
        self.assertEqual(('active', 48 * MiB), (shown['status'], shown['virtual_size']))


class TestTasksApi(base.ImportTest):

    def _import_one(self, project=None):
        image = self.create(project=project)
        self.stage(image['id'], os.urandom(MiB), project=project)
        self.import_(image['id'], project=project)
        return image, self.wait_task(image['id'], project=project)

    def get(self, path, project=None, roles='member,reader'):
        return self.session.get(self.servers.api_url + path,
                                headers=self.headers(project, roles))

    def test_tasks_api_is_for_admins_and_shows_tasks_as_upstream(self):
        image, task = self._import_one()
        self.assertEqual(403, self.get('/v2/tasks').status_code)
        self.assertEqual(403, self.get('/v2/tasks/%s' % task['id']).status_code)

        admin = 'admin,member,reader'
        listed = self.get('/v2/tasks', roles=admin).json()
        self.assertEqual('/v2/schemas/tasks', listed['schema'])
        stub = [t for t in listed['tasks'] if t['id'] == task['id']][0]
        self.assertNotIn('input', stub)
        self.assertEqual('success', stub['status'])
        shown = self.get('/v2/tasks/%s' % task['id'], roles=admin).json()
        self.assertEqual(task['input'], shown['input'])
        self.assertEqual(image['id'], shown['result']['image_id'])

        filtered = self.get('/v2/tasks?type=api_image_import&status=failure&limit=5',
                            roles=admin).json()
        self.assertNotIn(task['id'], [t['id'] for t in filtered['tasks']])
        for query in ('status=done', 'type=bogus', 'sort_key=input', 'sort_dir=up',
                      'limit=x', 'limit=-1', 'what=ever',
                      'marker=00000000-0000-0000-0000-000000000000'):
            resp = self.get('/v2/tasks?' + query, roles=admin)
            self.assertIn(resp.status_code, (400, 404), (query, resp.text))
        self.assertEqual(404, self.get('/v2/tasks/nope', roles=admin).status_code)
        schema = self.get('/v2/schemas/task').json()
        self.assertEqual('task', schema['name'])
        self.assertIn('api_image_import', schema['properties']['type']['enum'])

    def test_paging_through_tasks(self):
        for _ in range(3):
            self._import_one()
        admin = 'admin,member,reader'
        page = self.get('/v2/tasks?limit=2&sort_dir=asc', roles=admin).json()
        self.assertEqual(2, len(page['tasks']))
        rest = self.get(page['next'], roles=admin).json()
        self.assertTrue(rest['tasks'])
        self.assertFalse({t['id'] for t in page['tasks']} & {t['id'] for t in rest['tasks']})

    def test_image_tasks_follow_the_image_visibility(self):
        image, task = self._import_one()
        self.assertEqual([task['id']], [t['id'] for t in self.image_tasks(image['id'])])
        resp = self.get('/v2/images/%s/tasks' % image['id'], project='p-stranger')
        self.assertEqual(404, resp.status_code)

    def test_legacy_import_task_input_is_checked(self):
        admin = 'admin,member,reader'
        url = self.servers.api_url + '/v2/tasks'
        for body in ({'type': 'import'}, {'type': 'export', 'input': {}},
                     {'type': 'import', 'input': {'import_from': 'http://example.com/x'}},
                     {'type': 'import', 'input': {
                         'import_from': 'ftp://example.com/x', 'import_from_format': 'raw',
                         'image_properties': {'disk_format': 'raw',
                                              'container_format': 'bare'}}},
                     {'type': 'import', 'input': {
                         'import_from': 'http://example.com/x', 'import_from_format': 'raw',
                         'image_properties': {'disk_format': 'raw'}}},
                     {'type': 'import', 'input': {
                         'import_from': 'http://example.com/x', 'import_from_format': 'raw',
                         'image_properties': {'disk_format': 'floppy',
                                              'container_format': 'bare'}}}):
            resp = self.session.post(url, json=body, headers=self.headers(roles=admin))
            self.assertEqual(400, resp.status_code, (body, resp.text))
        resp = self.session.post(url, json={'type': 'import', 'input': {}},
                                 headers=self.headers())
        self.assertEqual(403, resp.status_code)
