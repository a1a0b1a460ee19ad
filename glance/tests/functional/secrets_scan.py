"""No backend secret in any response or log line of the functional suite.

``known()`` is every backend secret the tests configure: the storage servers' keys and
passwords (from the env files the service scripts write, and their defaults) plus any a
test adds at run time (``add``), such as a Temp-URL key glance generated. Every HTTP
response a test receives through ``requests`` (so glanceclient and openstackclient too,
in-process) is checked as it arrives; every server log and glance-manage output is checked
when the servers stop (glance.tests.functional.base).
"""


import requests

# Defaults of ../shared/services/*.sh and keystone_seed_swift.py
_STATIC = {'glance-secret', 'glance-ro-secret', 'saio-tempurl-key', 'glancepw', 'swiftpw',
           'testing3'}
_ENV_FILES = {'/tmp/seaweedfs-s3/env': ('S3_SECRET_KEY', 'S3_RO_SECRET_KEY'),
              '/tmp/swift-saio/env': ('SWIFT_TEMPURL_KEY',)}
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
                            found.add(line[len(prefix):].strip().strip('\'"'))
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
