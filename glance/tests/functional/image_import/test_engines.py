"""The import story on SQLite, PostgreSQL and MariaDB alike: stage, glance-direct,
web-download through the legacy ``POST /v2/tasks``, the tasks listed, and bad input as the
same clear 4xx on every engine."""

import hashlib
import os
import urllib.parse

from glance.tests.functional.data import test_data_path
from glance.tests.functional import engines
from glance.tests.functional.image_import import base
from glance.tests.functional.image_import import source as source_server

ADMIN = 'admin,member,reader'


@engines.on_every_engine
class TestImportOnEveryEngine(source_server.ClassSource, engines.FreshDatabase,
                              base.ImportTest):

    server_kwargs = {'stream': False, 'api_conf': {
        'import_filtering_opts': {'allowed_ports': '',
                                  'allowed_private_hosts': 'localhost'}}}

    def test_stage_import_and_the_tasks(self):
        data = os.urandom(2 * 1024 * 1024 + 1)
        image = self.create(name='\u00e9t\u00e9 \U0001f600')
        self.stage(image['id'], data)
        self.import_(image['id'])
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(image['id'])
        self.assertEqual(('active', hashlib.md5(data).hexdigest()),
                         (shown['status'], shown['checksum']))
        listed = self.session.get(self.servers.api_url + '/v2/tasks?limit=100',
                                  headers=self.headers(roles=ADMIN)).json()['tasks']
        self.assertIn(task['id'], [t['id'] for t in listed])

    def test_legacy_import_task_creates_and_fills_an_image(self):
        data = os.urandom(1024 * 1024)
        self.source.bodies['legacy'] = data
        resp = self.session.post(
            self.servers.api_url + '/v2/tasks', headers=self.headers(roles=ADMIN),
            json={'type': 'import', 'input': {
                'import_from': self.source.url('/data/legacy', host='localhost'),
                'import_from_format': 'raw',
                'image_properties': {'disk_format': 'raw', 'container_format': 'bare',
                                     'name': 'legacy'}}})
        self.assertEqual(201, resp.status_code, resp.text)
        task_url = urllib.parse.urljoin(self.servers.api_url, resp.headers['Location'])
        final = {}

        def ended():
            final.update(self.session.get(task_url, headers=self.headers(roles=ADMIN)).json())
            return final['status'] in ('success', 'failure')
        self.assertTrue(test_data_path.wait_for(ended, 60))
        self.assertEqual('success', final['status'], final['message'])
        image = self.show(final['result']['image_id'])
        self.assertEqual(('active', 'legacy', hashlib.sha512(data).hexdigest()),
                         (image['status'], image['name'], image['os_hash_value']))

    def test_bad_input_is_the_same_4xx_everywhere(self):
        image = self.create()
        self.import_(image['id'], expect=409)
        self.import_(image['id'], method='web-download',
                     method_extra={'uri': 'http://127.0.0.1:1/\u0000'}, expect=400)
        resp = self.session.get(self.servers.api_url + '/v2/tasks?marker=%s' % image['id'],
                                headers=self.headers(roles=ADMIN))
        self.assertEqual(404, resp.status_code)
        resp = self.session.get(self.servers.api_url + '/v2/tasks/%s' % ('x' * 300),
                                headers=self.headers(roles=ADMIN))
        self.assertEqual(404, resp.status_code)
        resp = self.session.get(self.servers.api_url + '/v2/tasks?sort_key=status&limit=2',
                                headers=self.headers(roles=ADMIN))
        self.assertEqual(200, resp.status_code)
