"""glance-api and glance-stream in the "keystone" flavor, against a real Keystone.

The project-isolation matrix: each role (reader, member, admin of project A) against images
of its own project and of project B (private, shared with A as accepted or pending member,
shared without A, public, community), for show, list, patch, delete and the member list.
An image the caller may not see is 404, never 403.
"""

import os
import subprocess
import sys

import requests
import testtools

from glance.tests.functional import base
from glance.tests.functional import keystone

A, B = keystone.PROJECTS
PATCH = 'application/openstack-images-v2.1-json-patch'


class KeystoneTest(base.FunctionalTest):

    shared_servers = True

    @classmethod
    def setUpClass(cls):
        try:
            conf = keystone.authtoken_conf()
        except keystone.KeystoneUnavailable as e:
            raise testtools.TestCase.skipException('Keystone is unavailable: %s' % e)
        cls.server_kwargs = {'flavor': 'keystone', 'common_conf': {
            'keystone_authtoken': conf}}
        super().setUpClass()
        cls.tokens = {}

    def token(self, project, role):
        key = (project, role)
        if key not in self.tokens:
            self.tokens[key] = keystone.token_for('%s-%s' % key, project)
        return self.tokens[key]

    def call(self, method, path, project=A, role='member', **kwargs):
        headers = kwargs.pop('headers', {})
        headers['X-Auth-Token'] = self.token(project, role)
        return requests.request(method, self.servers.api_url + path, headers=headers,
                                timeout=30, **kwargs)

    def create(self, project, role='member', **body):
        body.setdefault('disk_format', 'raw')
        body.setdefault('container_format', 'bare')
        resp = self.call('POST', '/v2/images', project, role, json=body)
        assert resp.status_code == 201, resp.text
        return resp.json()


class TestKeystoneAuth(KeystoneTest):

    def test_no_or_bad_token_is_401(self):
        self.assertEqual(401, requests.get(self.servers.api_url + '/v2/images').status_code)
        resp = requests.get(self.servers.api_url + '/v2/images',
                            headers={'X-Auth-Token': 'bogus'})
        self.assertEqual(401, resp.status_code)
        self.assertEqual(200, requests.get(self.servers.api_url + '/versions').status_code)

    def test_identity_reaches_the_image(self):
        image = self.create(A)
        self.assertEqual(keystone.keystone()['projects'][A], image['owner'])

    def test_download_through_the_redirect_with_a_token(self):
        image = self.create(A)
        data = os.urandom(1024 * 1024 + 5)
        resp = self.call('PUT', '/v2/images/%s/file' % image['id'], data=data,
                         headers={'Content-Type': 'application/octet-stream'})
        self.assertEqual(204, resp.status_code, resp.text)
        resp = self.call('GET', '/v2/images/%s/file' % image['id'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(data, resp.content)
        # glance-stream also takes a token directly, with the same rules
        direct = self.servers.stream_url + '/v2/images/%s/file' % image['id']
        self.assertEqual(401, requests.get(direct).status_code)
        self.assertEqual(200, requests.get(direct, headers={
            'X-Auth-Token': self.token(A, 'reader')}).status_code)
        self.assertEqual(404, requests.get(direct, headers={
            'X-Auth-Token': self.token(B, 'member')}).status_code)

    def test_clients_round_trip(self):
        path = os.path.join(self.servers.dir, 'ks.raw')
        with open(path, 'wb') as f:
            f.write(os.urandom(2 * 1024 * 1024 + 1))
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update({'OS_AUTH_URL': keystone.keystone()['auth_url'],
                    'OS_USERNAME': '%s-member' % A, 'OS_PASSWORD': keystone.PASSWORD,
                    'OS_PROJECT_NAME': A, 'OS_USER_DOMAIN_ID': 'default',
                    'OS_PROJECT_DOMAIN_ID': 'default', 'OS_IDENTITY_API_VERSION': '3',
                    'OS_IMAGE_API_VERSION': '2',
                    'OS_IMAGE_ENDPOINT_OVERRIDE': self.servers.api_url})
        bindir = os.path.dirname(sys.executable)

        def run(*argv):
            result = subprocess.run(argv, env=env, capture_output=True, text=True,
                                    timeout=120, stdin=subprocess.DEVNULL)
            self.assertEqual(0, result.returncode, '%s: %s' % (argv, result.stderr))
            return result.stdout

        image_id = run(os.path.join(bindir, 'openstack'), 'image', 'create', '--disk-format',
                       'raw', '--container-format', 'bare', '--file', path, 'ks-image',
                       '-f', 'value', '-c', 'id').strip()
        saved = os.path.join(self.servers.dir, 'ks.saved')
        run(os.path.join(bindir, 'openstack'), 'image', 'save', '--file', saved, image_id)
        downloaded = os.path.join(self.servers.dir, 'ks.downloaded')
        run(os.path.join(bindir, 'glance'), '--os-image-url', self.servers.api_url,
            'image-download', '--file', downloaded, image_id)
        with open(path, 'rb') as f:
            original = f.read()
        for copy in (saved, downloaded):
            with open(copy, 'rb') as f:
                self.assertEqual(original, f.read(), copy)


# Expected status per (role, image, action). "listed" is True/False for the default list.
_R, _M, _AD = 'reader', 'member', 'admin'
EXPECTED = {
    # image kind: {role: (show, listed, patch, delete, members)}
    'own_private': {_R: (200, True, 403, 403, 403),
                    _M: (200, True, 200, 204, 403),
                    _AD: (200, True, 200, 204, 403)},
    'b_private': {_R: (404, False, 404, 404, 404),
                  _M: (404, False, 404, 404, 404),
                  _AD: (200, True, 200, 204, 403)},
    'b_shared_accepted': {_R: (200, True, 403, 403, 200),
                          _M: (200, True, 403, 403, 200),
                          _AD: (200, True, 200, 204, 200)},
    'b_shared_pending': {_R: (200, False, 403, 403, 200),
                         _M: (200, False, 403, 403, 200),
                         _AD: (200, True, 200, 204, 200)},
    'b_shared_other': {_R: (404, False, 404, 404, 404),
                       _M: (404, False, 404, 404, 404),
                       _AD: (200, True, 200, 204, 200)},
    'b_public': {_R: (200, True, 403, 403, 403),
                 _M: (200, True, 403, 403, 403),
                 _AD: (200, True, 200, 204, 403)},
    'b_community': {_R: (200, False, 403, 403, 403),
                    _M: (200, False, 403, 403, 403),
                    _AD: (200, True, 200, 204, 403)},
}


class TestIsolationMatrix(KeystoneTest):

    def _make(self, kind):
        """A fresh image of the kind, so that deletes and patches never disturb a cell."""
        a_id = keystone.keystone()['projects'][A]
        if kind == 'own_private':
            return self.create(A, visibility='private')
        if kind == 'b_private':
            return self.create(B, visibility='private')
        if kind == 'b_public':
            return self.create(B, 'admin', visibility='public')
        if kind == 'b_community':
            return self.create(B, visibility='community')
        image = self.create(B, visibility='shared')
        if kind == 'b_shared_other':
            resp = self.call('POST', '/v2/images/%s/members' % image['id'], B,
                             json={'member': 'someone-else'})
            assert resp.status_code == 200, resp.text
            return image
        resp = self.call('POST', '/v2/images/%s/members' % image['id'], B,
                         json={'member': a_id})
        assert resp.status_code == 200, resp.text
        if kind == 'b_shared_accepted':
            resp = self.call('PUT', '/v2/images/%s/members/%s' % (image['id'], a_id), A,
                             json={'status': 'accepted'})
            assert resp.status_code == 200, resp.text
        return image

    def test_matrix(self):
        failures = []
        for kind, by_role in sorted(EXPECTED.items()):
            for role, (show, listed, patch, delete, members) in sorted(by_role.items()):
                image = self._make(kind)
                path = '/v2/images/%s' % image['id']
                got_show = self.call('GET', path, A, role).status_code
                ids = [i['id'] for i in self.call('GET', '/v2/images?limit=1000', A,
                                                  role).json()['images']]
                got_members = self.call('GET', path + '/members', A, role).status_code
                got_patch = self.call('PATCH', path, A, role, data='[{"op": "replace", '
                                      '"path": "/name", "value": "x"}]',
                                      headers={'Content-Type': PATCH}).status_code
                got_delete = self.call('DELETE', path, A, role).status_code
                got = (got_show, image['id'] in ids, got_patch, got_delete, got_members)
                if got != (show, listed, patch, delete, members):
                    failures.append('%s as %s: expected (show, listed, patch, delete, '
                                    'members) = %s, got %s'
                                    % (kind, role, (show, listed, patch, delete, members),
                                       got))
        self.assertEqual([], failures, '\n'.join(failures))
