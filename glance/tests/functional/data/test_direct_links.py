"""Direct links on the file store, with real servers: policy, status, file_clients, warm cache,
direct_url/locations masking. (Swift and S3 links: glance.tests.functional.store.)"""

import hashlib
import os
import time
import urllib.parse

import fixtures

from glance.tests.functional.data import test_data_path


class DirectLinkTest(test_data_path.DataTest):

    def link(self, image_id, roles='service', project=None):
        return self.session.get(self.servers.api_url + '/v2/images/%s/direct-link' % image_id,
                                headers=self.headers(project, roles))

    def active_image(self, size=64 * 1024, project=None):
        data = os.urandom(size)
        image = self.create(project)
        self.upload(image['id'], data, project=project)
        return image, data


class TestPolicyAndStatus(DirectLinkTest):

    # a bad entry is skipped with a warning, the good one still applies
    server_kwargs = {'api_conf': {'direct_link': {'file_clients': 'not-a-network, 127.0.0.0/8'}}}

    def test_service_and_admin_get_a_file_link(self):
        image, data = self.active_image()
        for roles in ('service', 'admin'):
            resp = self.link(image['id'], roles)
            self.assertEqual(200, resp.status_code, resp.text)
            body = resp.json()
            self.assertEqual('GET', body['method'])
            self.assertEqual('local', body['store'])
            self.assertIsNone(body['expires_at'])
            self.assertEqual(len(data), body['size'])
            self.assertEqual(hashlib.md5(data).hexdigest(), body['checksum'])
            self.assertEqual('sha512', body['os_hash_algo'])
            self.assertEqual(hashlib.sha512(data).hexdigest(), body['os_hash_value'])
            path = urllib.parse.urlsplit(body['url'])
            self.assertEqual('file', path.scheme)
            with open(path.path, 'rb') as f:
                self.assertEqual(data, f.read())
            self.assertEqual(body['url'], body['links'][0]['url'])

    def test_ordinary_users_are_refused(self):
        image, _ = self.active_image()
        resp = self.link(image['id'], 'member,reader')
        self.assertEqual(403, resp.status_code)
        self.assertNotIn('file://', resp.text)
        # another project's user learns nothing about the image
        resp = self.link(image['id'], 'member,reader', project='p-other')
        self.assertEqual(404, resp.status_code)
        resp = self.link('00000000-0000-0000-0000-000000000000')
        self.assertEqual(404, resp.status_code)

    def test_an_image_without_data_is_a_conflict(self):
        image = self.create()
        resp = self.link(image['id'])
        self.assertEqual(409, resp.status_code)
        self.assertIn('queued', resp.text)

    def test_deactivated_image_refused_to_service_users(self):
        image, _ = self.active_image()
        resp = self.session.post(self.servers.api_url + '/v2/images/%s/actions/deactivate'
                                 % image['id'], headers=self.headers(roles='admin'))
        self.assertEqual(204, resp.status_code)
        self.assertEqual(403, self.link(image['id']).status_code)
        self.assertEqual(200, self.link(image['id'], 'admin').status_code)

    def test_a_bad_file_clients_entry_is_reported_once(self):
        image, _ = self.active_image()
        for _ in range(3):
            self.assertEqual(200, self.link(image['id']).status_code)
        warnings = [line for line in self.servers.api.log().splitlines()
                    if "file_clients entry 'not-a-network'" in line]
        self.assertEqual(1, len(warnings), warnings)  # one worker, parsed once

    def test_rotate_key_needs_a_swift_store(self):
        result = self.servers.manage('direct-link', 'rotate-key', check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('No Swift backend is configured', result.stdout)
        result = self.servers.manage('direct-link', 'rotate-key', '--store', 'local',
                                     check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('local is not a Swift backend', result.stdout)
        self.assertNotIn('Traceback', result.stderr)

    def test_every_issue_is_logged_without_the_url(self):
        image, _ = self.active_image()
        body = self.link(image['id']).json()
        log = self.servers.api.log()
        self.assertIn('Direct link issued: image %s' % image['id'], log)
        self.assertNotIn(body['url'], log)


class TestFileLinksOnlyForSharedHosts(DirectLinkTest):
    """Without file_clients, nobody gets the file store's paths."""

    def test_no_file_link_for_a_caller_outside_file_clients(self):
        image, _ = self.active_image()
        resp = self.link(image['id'])
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertNotIn('file://', resp.text)
        self.assertNotIn(self.servers.store_dir, resp.text)
        # the answer says which option would allow it
        self.assertIn('[direct_link] file_clients', resp.text)


class TestWarmCache(DirectLinkTest):
    """A link queues the image on its stream node; once cached, the cached copy comes first."""

    server_kwargs = {'api_conf': {'direct_link': {'warm_cache': 'true',
                                                  'file_clients': '127.0.0.0/8'}},
                     'stream_conf': {'cache': {'prefetch_interval': 1}}}

    def test_next_time_around_the_caller_gets_the_cached_copy(self):
        image, data = self.active_image(256 * 1024)
        first = self.link(image['id']).json()
        self.assertEqual('local', first['store'])
        deadline = time.monotonic() + 30
        body = first
        while time.monotonic() < deadline and body['store'] != 'cache':
            time.sleep(0.3)
            body = self.link(image['id']).json()
        self.assertEqual('cache', body['store'], self.servers.stream.log()[-2000:])
        path = urllib.parse.urlsplit(body['url']).path
        self.assertTrue(path.startswith(os.path.join(self.servers.state, 'cache')), path)
        with open(path, 'rb') as f:
            self.assertEqual(data, f.read())
        # the backend link is still offered after it
        self.assertEqual(['cache', 'local'], [link['store'] for link in body['links']])


class TestLocationFields(DirectLinkTest):

    server_kwargs = {'api_conf': {'DEFAULT': {'show_image_direct_url': 'true',
                                              'show_multiple_locations': 'true'}}}

    def test_direct_url_and_locations_only_for_trusted_callers(self):
        image, _ = self.active_image()
        shown = self.session.get(self.servers.api_url + '/v2/images/%s' % image['id'],
                                 headers=self.headers(roles='member,reader')).json()
        self.assertNotIn('direct_url', shown)
        self.assertNotIn('locations', shown)
        listed = self.session.get(self.servers.api_url + '/v2/images',
                                  headers=self.headers(roles='member,reader')).json()
        for entry in listed['images']:
            self.assertNotIn('locations', entry)
        shown = self.session.get(self.servers.api_url + '/v2/images/%s' % image['id'],
                                 headers=self.headers(roles='reader,service')).json()
        self.assertTrue(shown['direct_url'].startswith('file://'), shown)
        self.assertEqual([{'url': shown['direct_url'], 'metadata': {'store': 'local'}}],
                         shown['locations'])


class TestPolicyFile(DirectLinkTest):
    """Operators change who gets links in policy.yaml; a running server picks it up."""

    shared_servers = False

    def setUp(self):
        self.policy_path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                        'policy.yaml')
        with open(self.policy_path, 'w') as f:
            f.write('"get_image_direct_link": "role:nova"\n')
        self.server_kwargs = {'api_conf': {
            'oslo_policy': {'policy_file': self.policy_path},
            'direct_link': {'file_clients': '127.0.0.0/8'}}}
        super().setUp()

    def test_override_and_reload(self):
        image, _ = self.active_image()
        self.assertEqual(403, self.link(image['id'], 'service,reader').status_code)
        self.assertEqual(200, self.link(image['id'], 'nova,reader').status_code)
        with open(self.policy_path, 'w') as f:
            f.write('"get_image_direct_link": "!"\n')
        deadline = time.monotonic() + 10
        status = 200
        while status == 200 and time.monotonic() < deadline:
            time.sleep(0.3)
            status = self.link(image['id'], 'nova,reader').status_code
        self.assertEqual(403, status)
        self.assertEqual(403, self.link(image['id'], 'admin').status_code)


class TestWarmCacheNodeDown(DirectLinkTest):
    """A stream node that does not answer costs only the cached link, never the answer."""

    server_kwargs = {'stream': False,
                     'api_conf': {'direct_link': {'warm_cache': 'true',
                                                  'file_clients': '127.0.0.0/8',
                                                  'cache_check_timeout': '0.5'}}}

    def test_backend_link_when_the_node_is_down(self):
        image, _ = self.active_image()
        resp = self.link(image['id'])
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(['local'], [link['store'] for link in resp.json()['links']])
        self.assertIn('did not say whether it caches image %s' % image['id'],
                      self.servers.api.log())
