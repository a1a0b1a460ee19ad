"""A real Keystone for functional tests, with projects, users and roles for glance.

``keystone()`` starts Keystone once per test process with the project's own
``tools/test-services/keystone-start.sh`` (idempotent; ~50 s the first time on a machine,
under a second after) and creates, if missing, two projects each with a reader, a member
and an admin user, a user with the ``service`` role, and the ``glance`` service user
keystonemiddleware logs in as.
Tests skip with the script's reason only where Keystone cannot start.
"""

import fcntl
import os
import shlex
import subprocess
import time

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import identity
from keystoneauth1 import session as ks_session
from keystoneclient.v3 import client as ks_client

from glance.tests.functional import base


# The project's test-service scripts, and where they keep their state and env files.
SERVICES = os.path.join(base.ROOT, 'tools', 'test-services')
STATE = os.environ.get('GLANCE_TEST_SERVICES_DIR', '/tmp/glance-test-services')


PASSWORD = 'glance-test-pw'
PROJECTS = ('glance-test-a', 'glance-test-b')
ROLES = ('reader', 'member', 'admin')

_STATE = {}


class KeystoneUnavailable(Exception):
    pass


def _env(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith('export '):
                for pair in shlex.split(line[len('export '):]):
                    key, _, value = pair.partition('=')
                    values[key] = value
    return values


def _get_or_create(manager, name, **kwargs):
    for item in manager.list(name=name):
        return item
    return manager.create(name=name, **kwargs)


def _grant(ks, role, user, project):
    if not ks.role_assignments.list(user=user, project=project, role=role):
        ks.roles.grant(role, user=user, project=project)


def keystone():
    """Keystone's URL and the test identities; raises KeystoneUnavailable."""
    if 'error' in _STATE:
        raise KeystoneUnavailable(_STATE['error'])
    if 'info' in _STATE:
        return _STATE['info']
    # Test processes run side by side: one at a time starts and seeds Keystone.
    with open('/tmp/glance-test-keystone.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for attempt in range(3):
                try:
                    return _start_and_seed()
                except ks_exceptions.InternalServerError:
                    # Keystone on SQLite occasionally answers 500 under concurrent use.
                    if attempt == 2:
                        raise
                    time.sleep(2)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _start_and_seed():
    script = os.path.join(SERVICES, 'keystone-start.sh')
    if not os.path.exists(script):
        _STATE['error'] = 'no %s' % script
        raise KeystoneUnavailable(_STATE['error'])
    result = subprocess.run(['bash', script], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        _STATE['error'] = 'keystone-start.sh failed: %s' % result.stderr[-500:]
        raise KeystoneUnavailable(_STATE['error'])
    env = _env(os.path.join(STATE, 'keystone', 'env'))
    auth_url = env['OS_AUTH_URL']
    admin = ks_session.Session(auth=identity.Password(
        auth_url=auth_url, username=env['OS_USERNAME'], password=env['OS_PASSWORD'],
        project_name=env['OS_PROJECT_NAME'], user_domain_id='default',
        project_domain_id='default'))
    ks = ks_client.Client(session=admin)
    roles = {name: _get_or_create(ks.roles, name) for name in ROLES + ('service',)}
    info = {'auth_url': auth_url, 'session': admin, 'client': ks, 'projects': {},
            'users': {}}
    for project_name in PROJECTS + ('service',):
        project = _get_or_create(ks.projects, project_name, domain='default')
        info['projects'][project_name] = project.id
    for project_name in PROJECTS:
        for role in ROLES:
            user_name = '%s-%s' % (project_name, role)
            user = _get_or_create(ks.users, user_name, domain='default', password=PASSWORD)
            _grant(ks, roles[role], user, info['projects'][project_name])
            info['users'][(project_name, role)] = user_name
    for user_name, role in (('glance-test-service', 'admin'),
                            ('glance-test-nova', 'service')):
        user = _get_or_create(ks.users, user_name, domain='default', password=PASSWORD)
        _grant(ks, roles[role], user, info['projects']['service'])
    _STATE['info'] = info
    return info


def session_for(user_name, project_name):
    info = keystone()
    return ks_session.Session(auth=identity.Password(
        auth_url=info['auth_url'], username=user_name, password=PASSWORD,
        project_name=project_name, user_domain_id='default', project_domain_id='default'))


def token_for(user_name, project_name):
    for attempt in range(3):
        try:
            return session_for(user_name, project_name).get_token()
        except ks_exceptions.InternalServerError:
            if attempt == 2:
                raise
            time.sleep(1)


def authtoken_conf():
    """[keystone_authtoken] for glance-api and glance-stream."""
    info = keystone()
    return {'www_authenticate_uri': info['auth_url'], 'auth_url': info['auth_url'],
            'auth_type': 'password', 'username': 'glance-test-service',
            'password': PASSWORD,
            'project_name': 'service', 'user_domain_id': 'default',
            'project_domain_id': 'default', 'service_token_roles_required': 'true'}
