"""No backend secret in any response or log line of the functional suite.

``known()`` is every backend secret the tests configure: the storage servers' keys and
passwords (from the env files the service scripts write, and their defaults) plus any a
test adds at run time (``add``), such as a Temp-URL key glance generated. Every HTTP
response a test receives through ``requests`` (so glanceclient and openstackclient too,
in-process) is checked as it arrives; every server log and glance-manage output is checked
when the servers stop (glance.tests.functional.base).
"""

import os
import shlex

import requests

# Defaults of tools/test-services/*-start.sh
_STATIC = {'glance-rw-secret', 'glance-ro-secret', 'swift-test-tempurl-key', 'glancepw',
           'swift-service-pw', 'testing3', 'keystone-admin-pw'}
_STATE = os.environ.get('GLANCE_TEST_SERVICES_DIR', '/tmp/glance-test-services')
_ENV_FILES = {
    os.path.join(_STATE, 's3', 'env'): ('S3_SECRET_KEY', 'S3_RO_SECRET_KEY'),
    os.path.join(_STATE, 'swift', 'env'): ('SWIFT_TEMPURL_KEY', 'SWIFT_GLANCE_PASSWORD'),
    os.path.join(_STATE, 'keystone', 'env'): ('OS_PASSWORD',),
}
_added = set()
_MAX_BODY = 4 * 1024 * 1024


def add(secret):
    if secret:
        _added.add(secret)


def known():
    found = set(_STATIC) | _added
    for path, names in _ENV_FILES.items():
        try:
            with open(path) as f:
                for line in f:
                    for name in names:
                        prefix = 'export %s=' % name
                        if line.startswith(prefix):
                            found.add(shlex.split(line[len(prefix):])[0])
        except OSError:
            pass
    return {s for s in found if len(s) >= 6}


def find(text, where):
    """Raise AssertionError naming ``where`` (never the secret) if ``text`` holds one."""
    if isinstance(text, bytes):
        text = text.decode('latin-1')
    for secret in known():
        if secret in text:
            raise AssertionError('a backend secret (%d characters, starting %r) appears in %s'
                                 % (len(secret), secret[:2], where))


_send = requests.sessions.Session.send


def _checked_send(self, request, **kwargs):
    resp = _send(self, request, **kwargs)
    if kwargs.get('stream'):
        return resp
    where = 'the response to %s %s' % (request.method, request.url.split('?')[0])
    find('\n'.join('%s: %s' % item for item in resp.headers.items()), where)
    if len(resp.content) <= _MAX_BODY:
        find(resp.content, where)
    return resp


def install():
    requests.sessions.Session.send = _checked_send
