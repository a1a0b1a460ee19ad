"""glance/image/property_protections.py: rule files in both formats, read for real."""

import os
import shutil
import tempfile

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.common import exception
from glance import context as glance_context
from glance.image import property_protections as pp
from glance import policy

ROLES = """
[^x_billing_.*]
create = admin,billing
read = admin,billing,reader
update = admin,billing
delete = admin

[^x_frozen$]
create = @
read = @
update = !
delete = !

[.*]
create = @
read = @
update = @
delete = @
"""

POLICIES = """
[^x_billing_.*]
create = billing_writer
read = @
update = billing_writer
delete = !

[^x_open]
create = @
read = @
update = @
delete = @
"""

POLICY_YAML = """
"billing_writer": "role:admin or role:billing"
"""


def ctx(*roles, project='p1'):
    return glance_context.RequestContext(project_id=project, roles=list(roles),
                                         is_admin='admin' in roles)


class ProtectionTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        pp.reset()
        self.addCleanup(pp.reset)
        policy.reset()
        self.addCleanup(policy.reset)

    def use(self, text, rule_format='roles', name='protections.conf'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        self.conf.config(property_protection_file=path,
                         property_protection_rule_format=rule_format)
        pp.reset()
        return path


class TestRoles(ProtectionTest):

    def test_no_file_allows_everything(self):
        self.assertIsNone(pp.load())
        self.assertTrue(pp.is_allowed(ctx('reader'), 'x_billing_code', 'delete'))
        image = {'owner': 'p1', 'properties': {'a': '1'}}
        self.assertIs(image, pp.shown(ctx(), image))

    def test_roles_per_action(self):
        self.use(ROLES)
        billing, member, admin = ctx('billing'), ctx('member'), ctx('admin')
        self.assertTrue(pp.is_allowed(billing, 'x_billing_code', 'create'))
        self.assertFalse(pp.is_allowed(billing, 'x_billing_code', 'delete'))
        self.assertTrue(pp.is_allowed(admin, 'x_billing_code', 'delete'))
        self.assertFalse(pp.is_allowed(member, 'x_billing_code', 'read'))
        self.assertTrue(pp.is_allowed(ctx('Reader'), 'x_billing_code', 'read'))  # any case
        self.assertTrue(pp.is_allowed(member, 'anything', 'delete'))
        self.assertFalse(pp.is_allowed(admin, 'x_frozen', 'update'))  # "!" binds admins too

    def test_unmatched_property_is_untouchable(self):
        self.use('[^only_this$]\ncreate = @\nread = @\nupdate = @\ndelete = @\n')
        self.assertTrue(pp.is_allowed(ctx('member'), 'only_this', 'create'))
        self.assertFalse(pp.is_allowed(ctx('admin'), 'other', 'read'))

    def test_missing_operation_means_nobody(self):
        self.use('[.*]\ncreate = @\nread = @\n')
        self.assertFalse(pp.is_allowed(ctx('admin'), 'a', 'update'))
        self.assertTrue(pp.is_allowed(ctx('admin'), 'a', 'read'))

    def test_changes(self):
        self.use(ROLES)
        image = {'owner': 'p1', 'properties': {'x_billing_code': 'b', 'x_frozen': 'f',
                                               'plain': 'p'}}
        member = ctx('member')
        readable, hidden = pp.split_readable(member, image)
        self.assertEqual({'x_frozen': 'f', 'plain': 'p'}, readable)
        self.assertEqual({'x_billing_code': 'b'}, hidden)
        self.assertEqual({'x_frozen': 'f', 'plain': 'p'}, pp.shown(member, image)['properties'])
        # an allowed change keeps what the caller could not see
        stored = pp.check_changes(member, readable, hidden,
                                  {'x_frozen': 'f', 'plain': 'q', 'new': 'n'}, 'p1')
        self.assertEqual({'x_billing_code': 'b', 'x_frozen': 'f', 'plain': 'q', 'new': 'n'},
                         stored)
        error = self.assertRaises(exception.PropertyProtected, pp.check_changes, member,
                                  readable, hidden, {'x_frozen': 'g', 'plain': 'p'}, 'p1')
        self.assertIn("update the property 'x_frozen'", str(error))
        self.assertEqual(403, error.code)
        error = self.assertRaises(exception.PropertyProtected, pp.check_changes, member,
                                  readable, hidden, {'plain': 'p'}, 'p1')
        self.assertIn("delete the property 'x_frozen'", str(error))
        # a hidden property cannot be overwritten by "adding" it
        self.assertRaises(exception.PropertyProtected, pp.check_changes, member, readable,
                          hidden, dict(readable, x_billing_code='z'), 'p1')
        self.assertRaises(exception.PropertyProtected, pp.check_create, member,
                          {'x_billing_code': '1'}, 'p1')
        pp.check_create(ctx('billing'), {'x_billing_code': '1'}, 'p1')

    def test_bad_files_are_refused_with_the_reason(self):
        for text, reason in (
                ('[x(]\ncreate = @\n', 'not a regular expression'),
                ('[.*]\ncreate = @,admin\n', 'stand alone'),
                ('[.*]\ncreate =\n', 'is empty'),
                ('[.*]\ncreate = @\nshow = @\n', 'unknown operations show'),
                ('create = @\n', 'property_protection_file'),
        ):
            self.use(text)
            error = self.assertRaises(exception.ConfigError, pp.load)
            self.assertIn(reason, str(error))
        self.conf.config(property_protection_file=os.path.join(self.tmp, 'missing.conf'))
        pp.reset()
        self.assertIn('cannot be read', str(self.assertRaises(exception.ConfigError, pp.load)))


class TestPolicies(ProtectionTest):

    def setUp(self):
        super().setUp()
        path = os.path.join(self.tmp, 'policy.yaml')
        with open(path, 'w') as f:
            f.write(POLICY_YAML)
        # oslo.policy looks its file up through a parsed configuration
        cfg.CONF([], project='glance', default_config_files=[], default_config_dirs=[])
        self.conf.config(policy_file=path, group='oslo_policy')

    def test_policy_rules_decide(self):
        self.use(POLICIES, 'policies')
        self.assertTrue(pp.is_allowed(ctx('billing'), 'x_billing_code', 'create'))
        self.assertFalse(pp.is_allowed(ctx('member'), 'x_billing_code', 'create'))
        self.assertTrue(pp.is_allowed(ctx('member'), 'x_billing_code', 'read'))
        self.assertFalse(pp.is_allowed(ctx('admin'), 'x_billing_code', 'delete'))
        self.assertTrue(pp.is_allowed(ctx('member'), 'x_open_thing', 'update'))
        self.assertFalse(pp.is_allowed(ctx('admin'), 'unmatched', 'read'))

    def test_unknown_policy_rule_is_refused(self):
        self.use('[.*]\ncreate = no_such_rule\nread = @\nupdate = @\ndelete = @\n',
                 'policies')
        error = self.assertRaises(exception.ConfigError, pp.load)
        self.assertIn('no_such_rule', str(error))

    def test_one_rule_per_value(self):
        self.use('[.*]\ncreate = billing_writer,other\nread = @\nupdate = @\ndelete = @\n',
                 'policies')
        self.assertIn('one policy rule', str(self.assertRaises(exception.ConfigError,
                                                               pp.load)))
