"""Per-project image limits from a real Keystone's unified limits (use_keystone_limits).

The test Keystone (tools/test-services/keystone-start.sh) gets a service and endpoint of
this test class's own, registered limits for the four image resources and overrides for
some projects made for the test; glance-api (noauth flavor, the caller's project id taken
from the header) reads them with oslo.limit as the bootstrap admin, system scoped. They are
checked on create, upload, stage and import.
"""

import os
import uuid

import requests
import testtools

from glance.tests.functional import base
from glance.tests.functional.data import test_data_path
from glance.tests.functional.image_import import source as source_server
from glance.tests.functional import keystone

MiB = 1024 * 1024
REGISTERED = {'image_size_total': 5, 'image_stage_total': 5, 'image_count_total': 10,
              'image_count_uploading': 2}
OVERRIDES = {
    'few': {'image_count_total': 2},
    'small': {'image_size_total': 1},
    'narrow': {'image_stage_total': 1},
    'busy': {'image_count_uploading': 0},
    'watched': {'image_size_total': 1},
    'stager': {'image_stage_total': 1},
    'importer': {},
    'twostage': {'image_size_total': 3},
    'pair': {},
    'single': {'image_count_uploading': 1},
}


class TestKeystoneLimits(source_server.ClassSource, base.FunctionalTest):

    shared_servers = True

    @classmethod
    def setUpClass(cls):
        try:
            info = keystone.keystone()
        except keystone.KeystoneUnavailable as e:
            raise testtools.TestCase.skipException('Keystone is unavailable: %s' % e)
        cls.ks = ks = info['client']
        suffix = uuid.uuid4().hex[:10]
        # what is made in Keystone goes once the servers have stopped (class cleanups, last
        # made first deleted), also when they fail to start
        cls.service = ks.services.create(name='glance-limits-' + suffix,
                                         type='image-limits-' + suffix)
        cls.addClassCleanup(ks.services.delete, cls.service)
        endpoint = ks.endpoints.create(cls.service, 'http://127.0.0.1:9/',
                                       interface='public', region='RegionOne')
        cls.addClassCleanup(ks.endpoints.delete, endpoint)
        for name, value in REGISTERED.items():
            registered = ks.registered_limits.create(cls.service, name, value,
                                                     region='RegionOne')
            cls.addClassCleanup(ks.registered_limits.delete, registered)
        cls.projects = {}
        for label in list(OVERRIDES) + ['default']:
            project = ks.projects.create('glance-limits-%s-%s' % (label, suffix), 'default')
            cls.addClassCleanup(ks.projects.delete, project)
            cls.projects[label] = project.id
            for name, value in OVERRIDES.get(label, {}).items():
                override = ks.limits.create(project, cls.service, name, value,
                                            region='RegionOne')
                cls.addClassCleanup(ks.limits.delete, override)
        env = keystone._env(os.path.join(keystone.STATE, 'keystone', 'env'))
        cls.server_kwargs = {'stream': False, 'api_conf': {
            'DEFAULT': {'use_keystone_limits': 'true'},
            # web-download from the class's source on loopback
            'import_filtering_opts': {'allowed_ports': '', 'allowed_private_hosts': 'localhost'},
            'oslo_limit': {'auth_url': info['auth_url'], 'auth_type': 'password',
                           'username': env['OS_USERNAME'],
                           'password': env['OS_PASSWORD'],
                           'user_domain_id': 'default', 'system_scope': 'all',
                           'endpoint_id': endpoint.id}}}
        super().setUpClass()

    def call(self, method, path, project, expect, **kwargs):
        headers = {'X-Project-Id': self.projects[project], 'X-Roles': 'member,reader'}
        headers.update(kwargs.pop('headers', {}))
        resp = requests.request(method, self.servers.api_url + path, headers=headers,
                                timeout=60, **kwargs)
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def create(self, project, expect=201):
        resp = self.call('POST', '/v2/images', project, expect,
                         json={'disk_format': 'raw', 'container_format': 'bare'})
        return resp.json() if expect == 201 else resp

    def upload(self, project, image, data, expect=204, chunked=False, to='file'):
        body = iter([data[i:i + 65536] for i in range(0, len(data), 65536)]) \
            if chunked else data
        return self.call('PUT', '/v2/images/%s/%s' % (image['id'], to), project, expect,
                         data=body, headers={'Content-Type': 'application/octet-stream'})

    def stage(self, project, image, data, expect=204, chunked=False):
        return self.upload(project, image, data, expect, chunked, to='stage')

    def show(self, project, image):
        return self.call('GET', '/v2/images/%s' % image['id'], project, 200).json()

    def staged(self, image):
        return os.path.exists(os.path.join(self.servers.state, 'staging', image['id']))

    def usage(self, project):
        return self.call('GET', '/v2/info/usage', project, 200).json()['usage']

    # each test uses projects of its own: the servers and projects serve the whole class

    def test_usage_shows_registered_limits_and_overrides(self):
        self.assertEqual({name: {'limit': value, 'usage': 0}
                          for name, value in REGISTERED.items()}, self.usage('default'))
        watched = self.usage('watched')
        self.assertEqual({'limit': 1, 'usage': 0}, watched['image_size_total'])
        self.assertEqual({'limit': 10, 'usage': 0}, watched['image_count_total'])
        image = self.create('watched')
        self.upload('watched', image, b'x' * 1000)
        watched = self.usage('watched')
        self.assertEqual({'limit': 1, 'usage': 1}, watched['image_size_total'])  # MiB
        self.assertEqual({'limit': 10, 'usage': 1}, watched['image_count_total'])
        self.assertEqual(0, watched['image_count_uploading']['usage'])

    def test_image_count_total_on_create(self):
        for _ in range(2):
            self.create('few')
        resp = self.create('few', expect=413)
        self.assertIn('image_count_total', resp.text)
        self.assertEqual(2, self.usage('few')['image_count_total']['usage'])

    def test_image_size_total_on_upload(self):
        first = self.create('small')
        self.upload('small', first, b'a' * 1000)
        second = self.create('small')
        # declared length: refused before a byte is read
        resp = self.upload('small', second, b'b' * 1000, expect=413)
        self.assertIn('image_size_total', resp.text)
        self.assertEqual('queued', self.call('GET', '/v2/images/%s' % second['id'], 'small',
                                             200).json()['status'])

    def test_undeclared_length_is_cut_at_the_remaining_bytes(self):
        image = self.create('narrow')  # image_stage_total 1 MiB, image_size_total 5 MiB
        resp = self.upload('narrow', image, b'c' * (2 * MiB), expect=413, chunked=True)
        self.assertIn('limits of project', resp.text)
        self.assertEqual('queued', self.call('GET', '/v2/images/%s' % image['id'], 'narrow',
                                             200).json()['status'])
        self.upload('narrow', image, b'c' * (MiB // 2), chunked=True)

    def test_image_count_uploading_on_upload(self):
        image = self.create('busy')
        resp = self.upload('busy', image, b'd' * 10, expect=413)
        self.assertIn('image_count_uploading', resp.text)

    def test_image_stage_total_on_stage(self):
        image = self.create('stager')  # image_stage_total 1 MiB, image_size_total 5 MiB

        def nothing_staged():
            shown = self.show('stager', image)
            self.assertEqual(('queued', None), (shown['status'], shown['size']))
            self.assertFalse(self.staged(image))
            self.assertEqual(0, self.usage('stager')['image_stage_total']['usage'])

        # declared length: refused before a byte is read
        resp = self.stage('stager', image, b's' * (2 * MiB), expect=413)
        self.assertIn('image_stage_total', resp.text)
        nothing_staged()
        # no length: cut at the remaining bytes, and what was written removed
        resp = self.stage('stager', image, b's' * (2 * MiB), expect=413, chunked=True)
        self.assertIn('limits of project', resp.text)
        nothing_staged()
        self.stage('stager', image, b's' * (MiB // 2))
        self.assertTrue(self.staged(image))
        self.assertEqual('uploading', self.show('stager', image)['status'])

    def test_image_size_total_on_import(self):
        stored = self.create('importer')
        self.upload('importer', stored, b'e' * (2 * MiB))  # within the registered 5 MiB
        image = self.create('importer')
        self.stage('importer', image, b'f' * 1000)
        # the project's limit lowered below what it stores (read again on every check): an
        # import adds no bytes of its own to image_size_total, it is refused while the
        # project is over
        override = self.ks.limits.create(self.projects['importer'], self.service,
                                         'image_size_total', 1, region='RegionOne')
        self.addCleanup(self.ks.limits.delete, override)
        resp = self.import_('importer', image, expect=413)
        self.assertIn('image_size_total', resp.text)
        # refused before a task: the staged data waits, still importable
        self.assertEqual([], self.call('GET', '/v2/images/%s/tasks' % image['id'],
                                       'importer', 200).json()['tasks'])
        self.assertEqual('uploading', self.show('importer', image)['status'])
        self.assertTrue(self.staged(image))
        self.ks.limits.update(override, resource_limit=5)
        self.import_('importer', image)
        self.wait_active('importer', image)
        self.assertEqual(3, self.usage('importer')['image_size_total']['usage'])  # MiB

    def import_(self, project, image, expect=202, **method):
        method.setdefault('name', 'glance-direct')
        return self.call('POST', '/v2/images/%s/import' % image['id'], project, expect,
                         json={'method': method})

    def wait_active(self, project, image):
        self.assertTrue(test_data_path.wait_for(
            lambda: self.show(project, image)['status'] == 'active', 60),
            self.show(project, image))

    def test_an_import_counts_the_staged_bytes(self):
        # image_size_total 3 MiB: each 2 MiB stage fits, both imports would not
        first, second = self.create('twostage'), self.create('twostage')
        self.stage('twostage', first, b'g' * (2 * MiB))
        self.stage('twostage', second, b'h' * (2 * MiB))
        self.import_('twostage', first)
        self.wait_active('twostage', first)
        resp = self.import_('twostage', second, expect=413)
        self.assertIn('image_size_total', resp.text)
        self.assertEqual('uploading', self.show('twostage', second)['status'])
        self.assertTrue(self.staged(second))
        self.assertEqual(2, self.usage('twostage')['image_size_total']['usage'])

    def test_a_staged_image_counts_once_in_transit(self):
        # image_count_uploading 2: two staged images use both, and importing one of them
        # adds no third
        first, second = self.create('pair'), self.create('pair')
        self.stage('pair', first, b'i' * 1000)
        self.stage('pair', second, b'j' * 1000)
        self.assertEqual(2, self.usage('pair')['image_count_uploading']['usage'])
        resp = self.create('pair')
        third = self.upload('pair', resp, b'k' * 10, expect=413)  # a third is refused
        self.assertIn('image_count_uploading', third.text)
        self.import_('pair', first)
        self.wait_active('pair', first)
        self.import_('pair', second)
        self.wait_active('pair', second)

    def test_a_web_download_counts_once_in_transit(self):
        # image_count_uploading 1: the import takes it, and the import's own download
        # (of an image already "importing") adds no second
        data = b'w' * (MiB + 3)
        self.source.bodies['single'] = data
        image = self.create('single')
        self.import_('single', image, name='web-download',
                     uri=self.source.url('/data/single', host='localhost'))
        self.wait_active('single', image)
        self.assertEqual(len(data), self.show('single', image)['size'])
        self.assertEqual(0, self.usage('single')['image_count_uploading']['usage'])


class TestLegacyQuotas(base.FunctionalTest):
    """use_keystone_limits off (the default): the legacy options, shown as the usage."""

    shared_servers = True
    server_kwargs = {'stream': False, 'api_conf': {'DEFAULT': {'image_count_quota': 1}}}

    def test_image_count_quota_and_its_usage(self):
        headers = {'X-Project-Id': 'legacy-' + uuid.uuid4().hex[:8],
                   'X-Roles': 'member,reader'}
        body = {'disk_format': 'raw', 'container_format': 'bare'}
        url = self.servers.api_url
        self.assertEqual(201, requests.post(url + '/v2/images', json=body, headers=headers,
                                            timeout=30).status_code)
        resp = requests.post(url + '/v2/images', json=body, headers=headers, timeout=30)
        self.assertEqual(413, resp.status_code)
        self.assertIn('maximum of 1 images', resp.text)
        resp = requests.get(url + '/v2/info/usage', headers=headers, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        usage = resp.json()['usage']
        self.assertEqual({'limit': 1, 'usage': 1}, usage['image_count_total'])
        self.assertEqual({'limit': -1, 'usage': 0}, usage['image_size_total'])


class TestKeystoneAway(base.FunctionalTest):
    """use_keystone_limits with a Keystone that does not answer: 503, no credential shown."""

    shared_servers = True
    password = 'limits-secret-' + uuid.uuid4().hex[:8]
    server_kwargs = {'stream': False, 'api_conf': {
        'DEFAULT': {'use_keystone_limits': 'true'},
        'oslo_limit': {'auth_url': 'http://127.0.0.1:%d/v3' % base.free_port(),
                       'auth_type': 'password', 'username': 'glance',
                       'password': password, 'user_domain_id': 'default',
                       'system_scope': 'all', 'endpoint_id': 'e1'}}}

    def test_create_and_usage_are_503(self):
        headers = {'X-Project-Id': 'p-away', 'X-Roles': 'member,reader'}
        url = self.servers.api_url
        resp = requests.post(url + '/v2/images', headers=headers, timeout=60,
                             json={'disk_format': 'raw', 'container_format': 'bare'})
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertIn('limits could not be read', resp.text)
        usage = requests.get(url + '/v2/info/usage', headers=headers, timeout=60)
        self.assertEqual(503, usage.status_code)
        for text in (resp.text, usage.text, self.servers.api.log()):
            self.assertNotIn(self.password, text)
