"""Make sure the test Keystone holds what the other test services need.  Idempotent.

Run with the Keystone virtualenv's python (it has keystoneclient)::

    python keystone_seed.py <keystone env file> base
    python keystone_seed.py <keystone env file> swift <proxy URL> <swift pw> <glance pw>

``base``: the ``service`` project and the ``member``, ``reader`` and ``service`` roles.
``swift``: the ``swift`` user Swift's authtoken logs in as and the ``glance`` user whose
account (``AUTH_<service project id>``) holds single-tenant images, both admin in
``service``; an ``object-store`` service with public, internal and admin endpoints on the
proxy.
``image``: the ``glance`` user (admin and service in ``service``, as devstack makes it) and
an ``image`` service whose endpoints are the given glance-api URL (tools/tempest/run.sh).
"""

import shlex
import sys

from keystoneauth1 import identity
from keystoneauth1 import session
from keystoneclient.v3 import client


def admin_client(env_file):
    env = {}
    with open(env_file) as f:
        for line in f:
            if line.startswith('export '):
                name, _, value = line[len('export '):].strip().partition('=')
                env[name] = shlex.split(value)[0] if value else ''
    auth = identity.Password(auth_url=env['OS_AUTH_URL'], username=env['OS_USERNAME'],
                             password=env['OS_PASSWORD'], project_name=env['OS_PROJECT_NAME'],
                             user_domain_id='default', project_domain_id='default')
    return client.Client(session=session.Session(auth=auth, timeout=30))


def one(manager, name, **create):
    found = manager.list(name=name)
    return found[0] if found else manager.create(name=name, **create)


def grant(ks, role, user, project):
    if not ks.role_assignments.list(user=user, project=project, role=role):
        ks.roles.grant(role, user=user, project=project)


def base(ks):
    for role in ('member', 'reader', 'service'):
        one(ks.roles, role)
    return one(ks.projects, 'service', domain='default')


def swift(ks, proxy_url, swift_pw, glance_pw):
    service_project = base(ks)
    admin = one(ks.roles, 'admin')
    for name, password in (('swift', swift_pw), ('glance', glance_pw)):
        user = one(ks.users, name, domain='default', password=password)
        # The password may have changed since the user was made (another knob value).
        ks.users.update(user, password=password)
        grant(ks, admin, user, service_project)
    services = [s for s in ks.services.list() if s.type == 'object-store']
    service = services[0] if services else ks.services.create(name='swift',
                                                              type='object-store')
    want = proxy_url.rstrip('/') + '/v1/AUTH_%(project_id)s'
    have = set()
    for endpoint in ks.endpoints.list(service=service):
        if endpoint.url == want:
            have.add(endpoint.interface)
        else:
            ks.endpoints.delete(endpoint)
    for interface in {'public', 'internal', 'admin'} - have:
        ks.endpoints.create(service, want, interface=interface, region='RegionOne')
    print('object-store endpoint %s; image account AUTH_%s' % (want, service_project.id))


def _service_endpoints(ks, kind, name, url):
    services = [s for s in ks.services.list() if s.type == kind]
    service = services[0] if services else ks.services.create(name=name, type=kind)
    have = set()
    for endpoint in ks.endpoints.list(service=service):
        if endpoint.url == url:
            have.add(endpoint.interface)
        else:
            ks.endpoints.delete(endpoint)
    for interface in {'public', 'internal', 'admin'} - have:
        ks.endpoints.create(service, url, interface=interface, region='RegionOne')


def image(ks, api_url, glance_pw):
    service_project = base(ks)
    user = one(ks.users, 'glance', domain='default', password=glance_pw)
    ks.users.update(user, password=glance_pw)
    for role in ('admin', 'service'):
        grant(ks, one(ks.roles, role), user, service_project)
    _service_endpoints(ks, 'image', 'glance', api_url.rstrip('/'))
    print('image endpoint %s' % api_url)


def main(argv):
    ks = admin_client(argv[1])
    if argv[2] == 'base':
        base(ks)
    elif argv[2] == 'swift':
        swift(ks, *argv[3:6])
    elif argv[2] == 'image':
        image(ks, *argv[3:5])
    else:
        sys.exit('unknown command %r' % argv[2])


if __name__ == '__main__':
    main(sys.argv)
