"""Real storage servers for functional tests: S3 (SeaweedFS) and Swift, on loopback.

Each function starts its server once per test process with the idempotent scripts in
``../shared/services/`` and returns the variables of the env file the script writes. A
test calls ``skip_unless(...)`` so that it skips, with the script's own reason, only where
the server truly cannot start.
"""

import fcntl
import os
import subprocess

import testtools

from glance.tests.functional import keystone

SERVICES = keystone.SERVICES
_STATE = {}


class Unavailable(Exception):
    pass


def _start(name, script, env_file, extra_env=None, timeout=600):
    if name in _STATE:
        if isinstance(_STATE[name], Exception):
            raise _STATE[name]
        return _STATE[name]
    path = os.path.join(SERVICES, script)
    env = dict(os.environ, **(extra_env or {}))
    with open('/tmp/glance-test-%s.lock' % name, 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            result = subprocess.run(['bash', path], capture_output=True, text=True,
                                    timeout=timeout, env=env)
        except (OSError, subprocess.TimeoutExpired) as e:
            result = None
            error = str(e)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if result is None or result.returncode != 0 or not os.path.exists(env_file):
        reason = error if result is None else (result.stderr or result.stdout)[-800:]
        _STATE[name] = Unavailable('%s could not start: %s' % (name, reason))
        raise _STATE[name]
    _STATE[name] = keystone._env(env_file)
    return _STATE[name]


def s3():
    return _start('s3', 's3-start.sh', '/tmp/seaweedfs-s3/env')


def swift_keystone():
    """Swift whose second proxy (:8081) authenticates with the test Keystone.

    Keystone is seeded first (a swift service user, the glance user that owns the image
    account, the object-store endpoint), as swift-saio-start.sh requires.
    """
    if 'swift' in _STATE:
        return _start('swift', None, None)
    info = keystone.keystone()
    seed = os.path.join(SERVICES, 'keystone_seed_swift.py')
    result = subprocess.run(['python3', seed, info['auth_url'], 'http://127.0.0.1:8081'],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        _STATE['swift'] = Unavailable('seeding Keystone for Swift failed: %s'
                                      % result.stderr[-500:])
        raise _STATE['swift']
    return _start('swift', 'swift-saio-start.sh', '/tmp/swift-saio/env',
                  {'SWIFT_KEYSTONE_URL': info['auth_url']})


def skip_unless(service):
    """The service's env, or skip the calling test with the reason it is missing."""
    try:
        return service()
    except (Unavailable, keystone.KeystoneUnavailable) as e:
        raise testtools.TestCase.skipException(str(e))


GLANCE_SWIFT_PASSWORD = 'glancepw'  # keystone_seed_swift.py's user owning the image account


def single_backend(kind, options):
    """``common_conf`` for servers whose one backend, "objects", is of this kind."""
    return {'DEFAULT': {'enabled_backends': 'objects:%s' % kind},
            'glance_store': {'default_backend': 'objects'},
            'objects': options}


def s3_store(env):
    """The options of an S3 backend on the script's bucket, with the read-write keys.

    The script's own bucket: SeaweedFS gives each bucket volumes of its own, and runs out of
    them if every test run makes a new one. Image ids keep keys apart.
    """
    return {'s3_store_host': env['S3_ENDPOINT'],
            's3_store_access_key': env['S3_ACCESS_KEY'],
            's3_store_secret_key': env['S3_SECRET_KEY'],
            's3_store_bucket': env['S3_BUCKETS'].split()[0],
            's3_store_create_bucket_on_put': 'false',
            's3_store_bucket_url_format': 'path',
            's3_store_region_name': env.get('S3_REGION', 'us-east-1')}


def swift_store(container, ref_file):
    """The options of a single-tenant Swift backend in glance's own account.

    Writes the reference file holding glance's Keystone credentials to ``ref_file``.
    """
    with open(ref_file, 'w') as f:
        f.write('[ref1]\nauth_address = %s\nuser = service:glance\nkey = %s\n'
                'auth_version = 3\nuser_domain_id = default\n'
                'project_domain_id = default\n' % (keystone.keystone()['auth_url'],
                                                   GLANCE_SWIFT_PASSWORD))
    return {'swift_store_multi_tenant': 'false',
            'default_swift_reference': 'ref1',
            'swift_store_config_file': ref_file,
            'swift_store_container': container,
            'swift_store_create_container_on_put': 'true'}
