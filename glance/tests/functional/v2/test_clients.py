"""The real python-glanceclient and openstackclient command lines against glance-api.

Both flavors: without Keystone (noauth) glanceclient takes ``--os-image-url`` with any
token and openstackclient ``--os-auth-type none --os-endpoint``; with a real Keystone both
log in with a password and are pointed at this test's glance-api (``--os-image-url``,
``OS_IMAGE_ENDPOINT_OVERRIDE``) rather than through the shared service catalog.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

import testtools

from glance.tests.functional import base
from glance.tests.functional import keystone

BIN = os.path.dirname(sys.executable)


def _close_stdin():
    # glanceclient reads image data from a stdin that is not a terminal; give it none.
    os.close(0)


class ClientTest(base.FunctionalTest):

    shared_servers = True

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(dir=self.servers.dir)
        self.data_path = os.path.join(self.tmp, 'disk.raw')
        with open(self.data_path, 'wb') as f:
            f.write(os.urandom(3 * 1024 * 1024 + 11))

    def same_bytes(self, path):
        with open(self.data_path, 'rb') as a, open(path, 'rb') as b:
            return hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest()

    def cli_env(self):
        return {k: v for k, v in os.environ.items() if not k.startswith('OS_')}

    def glance_auth(self):
        return ['--os-image-url', self.servers.api_url, '--os-auth-token', 'unused']

    def openstack_auth(self):
        return ['--os-auth-type', 'none', '--os-endpoint', self.servers.api_url]

    def run_cli(self, argv, expect_ok=True, close_stdin=True):
        env = self.cli_env()
        result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120,
                                stdin=subprocess.DEVNULL,
                                preexec_fn=_close_stdin if close_stdin else None)
        if expect_ok:
            self.assertEqual(0, result.returncode, '%s\n%s' % (argv, result.stderr))
        return result

    def glance(self, *args, **kwargs):
        return self.run_cli([os.path.join(BIN, 'glance')] + self.glance_auth() + list(args),
                            **kwargs)

    def openstack(self, *args, **kwargs):
        # openstackclient needs a stdin object (it is /dev/null here).
        return self.run_cli([os.path.join(BIN, 'openstack')] + self.openstack_auth() +
                            list(args), close_stdin=False, **kwargs)

    def glance_json(self, *args):
        """glance's Property/Value table as a dict (a long value's first line only)."""
        rows = {}
        for line in self.glance(*args).stdout.splitlines():
            parts = [p.strip() for p in line.split('|')]
            if len(parts) == 4 and parts[1] and parts[1] != 'Property':
                rows[parts[1]] = parts[2]
        return rows

    def openstack_json(self, *args):
        return json.loads(self.openstack(*(list(args) + ['-f', 'json'])).stdout)


class TestGlanceClient(ClientTest):

    def _show(self, image_id):
        return self.glance_json('image-show', image_id)

    def test_image_lifecycle(self):
        out = self.glance('image-create', '--name', 'gc-image', '--disk-format', 'raw',
                          '--container-format', 'bare', '--property', 'os_distro=cirros',
                          '--min-ram', '64').stdout
        image_id = [line.split('|')[2].strip() for line in out.splitlines()
                    if line.startswith('| id ')][0]
        shown = self._show(image_id)
        self.assertEqual('gc-image', shown['name'])
        self.assertEqual('cirros', shown['os_distro'])
        self.assertEqual('queued', shown['status'])
        self.assertEqual('64', shown['min_ram'])
        self.assertIn(image_id, self.glance('image-list').stdout)

        self.glance('image-update', '--name', 'gc-renamed', '--property', 'os_version=1',
                    '--remove-property', 'os_distro', image_id)
        shown = self._show(image_id)
        self.assertEqual('gc-renamed', shown['name'])
        self.assertEqual('1', shown['os_version'])
        self.assertNotIn('os_distro', shown)

        self.glance('image-tag-update', image_id, 'blue')
        self.assertIn('blue', self._show(image_id)['tags'])
        self.glance('image-tag-delete', image_id, 'blue')
        self.assertNotIn('blue', self._show(image_id)['tags'])

        self.assertIn(image_id, self.glance('image-list', '--property-filter',
                                            'os_version=1').stdout)

        self.glance('image-upload', '--file', self.data_path, image_id)
        self.assertEqual('active', self._show(image_id)['status'])
        out_path = os.path.join(self.tmp, 'downloaded')
        self.glance('image-download', '--file', out_path, image_id)
        self.assertTrue(self.same_bytes(out_path), 'downloaded bytes differ')

        self.glance('image-delete', image_id)
        result = self.glance('image-show', image_id, expect_ok=False)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('404', result.stderr + result.stdout)

    def test_bad_input_is_reported(self):
        result = self.glance('image-create', '--name', 'x', '--disk-format', 'floppy',
                             expect_ok=False)
        self.assertNotEqual(0, result.returncode)
        self.assertNotIn('Traceback', result.stderr)


class TestOpenStackClient(ClientTest):

    def test_image_lifecycle(self):
        image = self.openstack_json('image', 'create', '--disk-format', 'raw',
                                    '--container-format', 'bare', '--property', 'hw_foo=bar',
                                    '--tag', 'red', '--file', self.data_path, 'osc-image')
        image_id = image['id']
        self.assertEqual('osc-image', image['name'])
        self.assertEqual('active', image['status'])
        out_path = os.path.join(self.tmp, 'saved')
        self.openstack('image', 'save', '--file', out_path, image_id)
        self.assertTrue(self.same_bytes(out_path), 'saved bytes differ')
        listed = self.openstack_json('image', 'list')
        self.assertIn(image_id, [i['ID'] for i in listed])

        shown = self.openstack_json('image', 'show', 'osc-image')
        self.assertEqual(image_id, shown['id'])
        self.assertEqual('bar', shown['properties']['hw_foo'])
        self.assertEqual(['red'], shown['tags'])

        self.openstack('image', 'set', '--name', 'osc-renamed', '--property', 'hw_baz=1',
                       '--min-disk', '2', '--protected', image_id)
        shown = self.openstack_json('image', 'show', image_id)
        self.assertEqual('osc-renamed', shown['name'])
        self.assertEqual('1', shown['properties']['hw_baz'])
        self.assertEqual(2, shown['min_disk'])
        self.assertTrue(shown['protected'])

        result = self.openstack('image', 'delete', image_id, expect_ok=False)
        self.assertNotEqual(0, result.returncode)  # protected

        self.openstack('image', 'unset', '--property', 'hw_foo', '--tag', 'red', image_id)
        self.openstack('image', 'set', '--unprotected', image_id)
        shown = self.openstack_json('image', 'show', image_id)
        self.assertNotIn('hw_foo', shown['properties'])
        self.assertEqual([], shown['tags'])

        self.openstack('image', 'delete', image_id)
        result = self.openstack('image', 'show', image_id, expect_ok=False)
        self.assertNotEqual(0, result.returncode)


class KeystoneClients:
    """Run a client test class in the keystone flavor, as a member of project A."""

    @classmethod
    def setUpClass(cls):
        try:
            conf = keystone.authtoken_conf()
        except keystone.KeystoneUnavailable as e:
            raise testtools.TestCase.skipException('Keystone is unavailable: %s' % e)
        cls.server_kwargs = {'flavor': 'keystone',
                             'common_conf': {'keystone_authtoken': conf}}
        super().setUpClass()

    def cli_env(self):
        env = super().cli_env()
        project = keystone.PROJECTS[0]
        env.update({'OS_AUTH_URL': keystone.keystone()['auth_url'],
                    'OS_USERNAME': '%s-member' % project, 'OS_PASSWORD': keystone.PASSWORD,
                    'OS_PROJECT_NAME': project, 'OS_USER_DOMAIN_ID': 'default',
                    'OS_PROJECT_DOMAIN_ID': 'default', 'OS_IDENTITY_API_VERSION': '3',
                    'OS_IMAGE_ENDPOINT_OVERRIDE': self.servers.api_url})
        return env

    def glance_auth(self):
        return ['--os-image-url', self.servers.api_url]

    def openstack_auth(self):
        return []


class TestGlanceClientKeystone(KeystoneClients, TestGlanceClient):
    pass


class TestOpenStackClientKeystone(KeystoneClients, TestOpenStackClient):
    pass


class TestQuickstartEnvironment(ClientTest):
    """The environment tools/quickstart.sh prints works as printed.

    No command-line auth options: ``OS_IMAGE_URL`` + ``OS_AUTH_TOKEN`` for glance (which
    has no "none" auth type) and ``OS_AUTH_TYPE=none`` + ``OS_ENDPOINT`` for openstack.
    """

    def _printed(self, variable):
        """{name: value} of the quickstart's ``export`` line that sets ``variable``."""
        with open(os.path.join(base.ROOT, 'tools', 'quickstart.sh')) as f:
            for line in f:
                words = line.split()
                if words[:1] == ['export'] and any(w.startswith(variable + '=')
                                                   for w in words):
                    pairs = (w.split('=', 1) for w in words[1:])
                    port = self.servers.api_url.rsplit(':', 1)[1]
                    return {k: v.replace('$api_port', port) for k, v in pairs}
        self.fail('tools/quickstart.sh prints no "export %s=" line' % variable)

    def _run(self, argv, variables):
        env = dict(self.cli_env(), **variables)
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120,
                              stdin=subprocess.DEVNULL)

    def test_glance_with_os_image_url_and_token(self):
        variables = self._printed('OS_IMAGE_URL')
        self.assertEqual(self.servers.api_url, variables['OS_IMAGE_URL'])
        self.assertIn('OS_AUTH_TOKEN', variables)
        name = 'qs-glance-%d' % os.getpid()
        created = self._run([os.path.join(BIN, 'glance'), 'image-create', '--name', name,
                             '--disk-format', 'raw', '--container-format', 'bare',
                             '--file', self.data_path], variables)
        self.assertEqual(0, created.returncode, created.stderr)
        listed = self._run([os.path.join(BIN, 'glance'), 'image-list'], variables)
        self.assertEqual(0, listed.returncode, listed.stderr)
        self.assertIn(name, listed.stdout)

    def test_openstack_with_auth_type_none(self):
        variables = self._printed('OS_ENDPOINT')
        self.assertEqual('none', variables['OS_AUTH_TYPE'])
        listed = self._run([os.path.join(BIN, 'openstack'), 'image', 'list'], variables)
        self.assertEqual(0, listed.returncode, listed.stderr)
