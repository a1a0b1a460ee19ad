"""Property protections as an operator sets them up: a rules file (roles, or policy rule
names), glance-api started with it, and callers with different roles creating, reading,
patching and listing images over HTTP; a bad rules file stops glance-api starting."""

import os
import shutil
import signal
import tempfile
import time

import fixtures
import requests

from glance.tests.functional import base

PATCH = 'application/openstack-images-v2.1-json-patch'
ADMIN = {'X-Roles': 'admin,member,reader'}
BILLING = {'X-Roles': 'member,reader,billing'}
MEMBER = {'X-Roles': 'member,reader'}

ROLES_RULES = """
[^x_billing_.*]
create = admin,billing
read = admin,billing
update = admin,billing
delete = admin

[^x_readonly$]
create = admin
read = @
update = !
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""

POLICIES_RULES = """
[^x_billing_.*]
create = billing_writer
read = billing_writer
update = billing_writer
delete = context_is_admin

[^x_readonly$]
create = context_is_admin
read = @
update = !
delete = context_is_admin

[.*]
create = @
read = @
update = @
delete = @
"""

POLICY_YAML = '"billing_writer": "role:admin or role:billing"\n'


def _write(directory, name, text):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


class _Protections:
    """The same story under either rule format."""

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.rules_dir, True)

    def call(self, method, path, headers, body=None, content_type=None):
        headers = dict(headers, Accept='application/json')  # errors as JSON, unescaped
        if content_type:
            headers['Content-Type'] = content_type
        return requests.request(method, self.servers.api_url + path, json=body,
                                headers=headers, timeout=30)

    def test_create_read_update_delete(self):
        resp = self.call('POST', '/v2/images', MEMBER, {'name': 'm', 'x_billing_code': '7'})
        self.assertEqual(403, resp.status_code)
        self.assertIn("create the property 'x_billing_code'", resp.text)

        resp = self.call('POST', '/v2/images', BILLING,
                         {'name': 'b', 'x_billing_code': '7', 'plain': 'p'})
        self.assertEqual(201, resp.status_code, resp.text)
        image_id = resp.json()['id']
        resp = self.call('PATCH', '/v2/images/%s' % image_id, ADMIN,
                         [{'op': 'add', 'path': '/x_readonly', 'value': 'r'}], PATCH)
        self.assertEqual(200, resp.status_code, resp.text)

        # a member cannot see the billing property, in show and in list
        shown = self.call('GET', '/v2/images/%s' % image_id, MEMBER).json()
        self.assertNotIn('x_billing_code', shown)
        self.assertEqual(('p', 'r'), (shown['plain'], shown['x_readonly']))
        listed = self.call('GET', '/v2/images', MEMBER).json()['images']
        self.assertNotIn('x_billing_code', [i for i in listed if i['id'] == image_id][0])
        self.assertEqual('7', self.call('GET', '/v2/images/%s' % image_id,
                                        BILLING).json()['x_billing_code'])

        # a member's patch of what it may change keeps the hidden property
        resp = self.call('PATCH', '/v2/images/%s' % image_id, MEMBER,
                         [{'op': 'replace', 'path': '/plain', 'value': 'q'}], PATCH)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertNotIn('x_billing_code', resp.json())
        self.assertEqual('7', self.call('GET', '/v2/images/%s' % image_id,
                                        ADMIN).json()['x_billing_code'])

        for headers, op, prop, verb in (
                (ADMIN, 'replace', 'x_readonly', 'update'),
                (MEMBER, 'remove', 'x_readonly', 'delete'),
                (BILLING, 'remove', 'x_billing_code', 'delete'),
                (MEMBER, 'add', 'x_billing_code', 'update')):
            change = {'op': op, 'path': '/' + prop}
            if op != 'remove':
                change['value'] = 'new'
            resp = self.call('PATCH', '/v2/images/%s' % image_id, headers, [change], PATCH)
            self.assertEqual(403, resp.status_code, (op, prop, resp.text))
            self.assertIn("%s the property '%s'" % (verb, prop), resp.text)

        resp = self.call('PATCH', '/v2/images/%s' % image_id, BILLING,
                         [{'op': 'replace', 'path': '/x_billing_code', 'value': '8'}], PATCH)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('8', resp.json()['x_billing_code'])
        resp = self.call('PATCH', '/v2/images/%s' % image_id, ADMIN,
                         [{'op': 'remove', 'path': '/x_billing_code'}], PATCH)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertNotIn('x_billing_code', resp.json())


class TestRoleProtections(_Protections, base.FunctionalTest):

    shared_servers = True

    @classmethod
    def setUpClass(cls):
        directory = cls.rules_dir = tempfile.mkdtemp(prefix='glance-protections-')
        cls.server_kwargs = {'stream': False, 'api_conf': {'DEFAULT': {
            'property_protection_file': _write(directory, 'roles.conf', ROLES_RULES),
            'property_protection_rule_format': 'roles'}}}
        super().setUpClass()


class TestPolicyProtections(_Protections, base.FunctionalTest):

    shared_servers = True

    @classmethod
    def setUpClass(cls):
        directory = cls.rules_dir = tempfile.mkdtemp(prefix='glance-protections-')
        cls.server_kwargs = {'stream': False, 'api_conf': {
            'DEFAULT': {
                'property_protection_file': _write(directory, 'policies.conf',
                                                   POLICIES_RULES),
                'property_protection_rule_format': 'policies'},
            'oslo_policy': {'policy_file': _write(directory, 'policy.yaml', POLICY_YAML)}}}
        super().setUpClass()


class TestRulesFile(base.FunctionalTest):
    """The rules file's own life: read at start, re-read on SIGHUP, refused when bad."""

    def setUp(self):
        # testtools' setUp: each test starts its own servers
        super(base.FunctionalTest, self).setUp()

    def test_sighup_applies_edited_rules(self):
        directory = tempfile.mkdtemp(prefix='glance-protections-')
        self.addCleanup(shutil.rmtree, directory, True)
        path = _write(directory, 'roles.conf', ROLES_RULES)
        servers = self.useFixture(base.ServerFixture(stream=False, api_conf={'DEFAULT': {
            'property_protection_file': path}}))
        url = servers.api_url + '/v2/images'
        body = {'name': 'i', 'x_billing_code': '1'}
        self.assertEqual(403, requests.post(url, json=body, headers=MEMBER,
                                            timeout=30).status_code)
        _write(directory, 'roles.conf', ROLES_RULES.replace('create = admin,billing',
                                                            'create = admin,billing,member'))
        servers.api.proc.send_signal(signal.SIGHUP)
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = requests.post(url, json=body, headers=MEMBER, timeout=30).status_code
            if status == 201:
                break
            time.sleep(0.5)
        self.assertEqual(201, status)

    def test_glance_api_does_not_start(self):
        directory = tempfile.mkdtemp(prefix='glance-protections-')
        self.addCleanup(shutil.rmtree, directory, True)
        path = _write(directory, 'bad.conf', '[.*]\ncreate = no_such_rule\n')
        fixture = base.ServerFixture(stream=False, api_conf={'DEFAULT': {
            'property_protection_file': path,
            'property_protection_rule_format': 'policies'}})
        # the fixture cleans up after itself; its first error carries the server's last words
        error = self.assertRaises(fixtures.MultipleExceptions, fixture.setUp)
        first = str(error.args[0][1])
        self.assertIn('glance-api: ERROR: ', first)
        self.assertIn('policy rule "no_such_rule", which policy.yaml does not define', first)
