"""Real storage servers for functional tests: S3 (SeaweedFS) and Swift, on loopback.

Each function starts its server once per test process with the project's idempotent
scripts in ``tools/test-services/`` and returns the variables of the env file the script
writes. A
test calls ``skip_unless(...)`` so that it skips, with the script's own reason, only where
the server truly cannot start.
"""

import os
import subprocess

import testtools

from glance.tests.functional import keystone

SERVICES = keystone.SERVICES
GLANCE_SWIFT_PASSWORD = 'glancepw'  # swift-start.sh's "glance" user, owning the image account
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
    # The script serialises concurrent starts itself (a lock in its state directory).
    try:
        result = subprocess.run(['bash', path], capture_output=True, text=True,
                                timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        result = None
        error = str(e)
    if result is None or result.returncode != 0 or not os.path.exists(env_file):
        reason = error if result is None else (result.stderr or result.stdout)[-800:]
        _STATE[name] = Unavailable('%s could not start: %s' % (name, reason))
        raise _STATE[name]
    _STATE[name] = keystone._env(env_file)
    return _STATE[name]


def s3():
    return _start('s3', 's3-start.sh', os.path.join(keystone.STATE, 's3', 'env'))


def swift_keystone():
    """Swift whose second proxy authenticates with the test Keystone.

    swift-start.sh starts Keystone itself and adds the swift service user, the glance user
    owning the image account and the object-store endpoint; the test identities come from
    ``keystone.keystone()``.
    """
    keystone.keystone()
    return _start('swift', 'swift-start.sh', os.path.join(keystone.STATE, 'swift', 'env'),
                  {'SWIFT_GLANCE_PASSWORD': GLANCE_SWIFT_PASSWORD})


def skip_unless(service):
    """The service's env, or skip the calling test with the reason it is missing."""
    try:
        return service()
    except (Unavailable, keystone.KeystoneUnavailable) as e:
        raise testtools.TestCase.skipException(str(e))


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
