"""The devstack plugin, run in bash against a recording stub of devstack.

``_STACK`` plays stack.sh's part: it defines devstack's functions as stubs that record
their arguments (nothing is installed, written or deleted), sources the plugin's settings,
then walks through stack.sh's steps in stack.sh's order, sourcing plugin.sh at each phase
as ``run_phase`` does, and calling the lib/glance entry points where stack.sh calls them.
The recorded calls are compared with what devstack's own lib/glance does at those points
(the sequence below), and the addresses with each other: the catalog, Cinder, the wait
and the servers' bind settings must all agree.
"""

import os
import shutil
import subprocess
import tempfile

import testtools

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
DEVSTACK = os.path.join(ROOT, 'devstack')

_STACK = r'''
set -u
RECORD=$1 PLUGIN=$2 BIN=$3
record() { printf '%s\n' "$*" >>"$RECORD"; }
for fn in setup_develop configure_keystone_authtoken_middleware setup_logging \
          create_service_user get_or_create_service get_or_create_endpoint \
          recreate_database time_start time_stop run_process stop_process \
          start_tls_proxy iniset_rpc_backend sudo cp mkdir rm; do
    eval "function $fn { record $fn \"\$@\"; }"
done
function iniset { record iniset "$@"; }
function iniget { return 0; }
function die { record die "$@"; exit 1; }
function wait_for_service { record wait_for_service "$@"; return 0; }
function database_connection_url { echo "mysql+pymysql://root:pw@127.0.0.1/$1"; }
function generate_hex_string { echo 0123456789abcdef; }
function enable_service { ENABLED_SERVICES+=",$1"; }
# devstack's rule: "glance" is enabled when any g-* service is.
function is_service_enabled {
    local s
    for s in "$@"; do
        [[ ,$ENABLED_SERVICES, == *,$s,* ]] && return 0
        [[ $s == glance && ,$ENABLED_SERVICES, == *,g-* ]] && return 0
    done
    return 1
}
function run_phase { source "$PLUGIN/plugin.sh" "$@"; }

# What devstack and lib/glance (WSGI_MODE=uwsgi, its default) have set by now.
DEST=/opt/stack DATA_DIR=/opt/stack/data STACK_USER=stack REGION_NAME=RegionOne
SERVICE_TIMEOUT=60 API_WORKERS=2 ENABLE_DEBUG_LOG_LEVEL=True SYSLOG=False
HOST_IP=${HOST_IP-192.0.2.10} HOST_IPV6=${HOST_IPV6-}
SERVICE_HOST=${SERVICE_HOST:-192.0.2.10} SERVICE_PROTOCOL=http
GLANCE_SERVICE_HOST=$SERVICE_HOST GLANCE_SERVICE_LISTEN_ADDRESS=${LISTEN:-0.0.0.0}
GLANCE_SERVICE_PROTOCOL=$SERVICE_PROTOCOL
is_service_enabled tls-proxy && GLANCE_SERVICE_PROTOCOL=https
GLANCE_SERVICE_PORT=9292 GLANCE_SERVICE_PORT_INT=19292 GLANCE_BIN_DIR=$BIN
GLANCE_CONF_DIR=/etc/glance GLANCE_API_CONF=/etc/glance/glance-api.conf
GLANCE_ENFORCE_SCOPE=False TEMPEST_CONFIG=/opt/stack/tempest/etc/tempest.conf
GLANCE_URL=$GLANCE_SERVICE_PROTOCOL://$GLANCE_SERVICE_HOST/image
source "$PLUGIN/settings"

run_phase stack pre-install
record "== install"
if is_service_enabled glance; then install_glance; configure_glance; fi
record "== cinder glance_api_servers $GLANCE_URL"
run_phase stack install
record "== keystone"
if is_service_enabled glance; then create_glance_accounts; fi
if is_service_enabled glance; then init_glance; fi
run_phase stack post-config
record "== nova and cinder start"
if is_service_enabled glance; then start_glance; fi
if is_service_enabled glance; then record "== uploading images"; fi
run_phase stack extra
if is_service_enabled glance; then record "== tempest service_available glance True"; fi
run_phase stack test-config
record "== unstack"
run_phase unstack
if is_service_enabled glance; then stop_glance; fi
record "== clean"
run_phase clean
'''

# The calls devstack's lib/glance makes at the same points, with this plugin's two
# servers where lib/glance has one.
EXPECTED = [
    '== install',
    'setup_develop /opt/stack/glance-split',
    'configure_keystone_authtoken_middleware /etc/glance/glance-api.conf glance',
    'configure_keystone_authtoken_middleware /etc/glance/glance-stream.conf glance',
    '== cinder glance_api_servers {url}',
    '== keystone',
    'create_service_user glance service',
    'get_or_create_service glance image Glance Image Service',
    'get_or_create_endpoint image RegionOne {url}',
    'recreate_database glance',
    'time_start dbsync',
    'glance-manage --config-file /etc/glance/glance-api.conf db sync',
    'time_stop dbsync',
    '== nova and cinder start',
    'run_process g-stream {bin}/glance-stream --config-file /etc/glance/glance-stream.conf',
    'run_process g-api {bin}/glance-api --config-file /etc/glance/glance-api.conf',
    'wait_for_service 60 {url}',
    'wait_for_service 60 {stream}/healthcheck',
    '== uploading images',
    '== tempest service_available glance True',
    '== unstack',
    'stop_process g-api',
    'stop_process g-stream',
    '== clean',
]
SKIPPED = ('iniset', 'sudo', 'cp', 'mkdir', 'rm', 'setup_logging', 'start_tls_proxy')


class TestDevstackPlugin(testtools.TestCase):

    def _stack(self, **env):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        record = os.path.join(tmp, 'calls')
        manage = os.path.join(tmp, 'glance-manage')
        with open(manage, 'w') as f:
            f.write('#!/bin/sh\necho "glance-manage $*" >>%s\n' % record)
        os.chmod(manage, 0o755)
        env = dict({'PATH': os.environ['PATH'],
                    'ENABLED_SERVICES': 'key,mysql,g-api,c-api,tempest'}, **env)
        result = subprocess.run(['bash', '-c', _STACK, 'stack', record, DEVSTACK, tmp],
                                env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(0, result.returncode, result.stderr)
        with open(record) as f:
            calls = f.read().splitlines()
        return tmp, calls

    def _main(self, calls):
        return [c for c in calls if c.split(' ', 1)[0] not in SKIPPED]

    @staticmethod
    def _inisets(calls, conf):
        return {tuple(c.split(' ')[2:4]): ' '.join(c.split(' ')[4:]) for c in calls
                if c.startswith('iniset %s ' % conf)}

    def test_follows_lib_glance_sequence(self):
        tmp, calls = self._stack()
        url, stream = 'http://192.0.2.10:9292', 'http://192.0.2.10:9293'
        expected = [e.format(url=url, stream=stream, bin=tmp) for e in EXPECTED]
        self.assertEqual(expected, self._main(calls))
        api = self._inisets(calls, '/etc/glance/glance-api.conf')
        self.assertEqual('9292', api[('DEFAULT', 'bind_port')])
        self.assertEqual('0.0.0.0', api[('DEFAULT', 'bind_host')])
        self.assertEqual(url, api[('DEFAULT', 'public_endpoint')])
        self.assertEqual(stream, api[('stream', 'endpoints')])
        self.assertIn('127.0.0.0/8', api[('direct_link', 'file_clients')])
        self.assertIn('192.0.2.10', api[('direct_link', 'file_clients')])
        stream_conf = self._inisets(calls, '/etc/glance/glance-stream.conf')
        self.assertEqual('9293', stream_conf[('DEFAULT', 'bind_port')])
        self.assertEqual('/opt/stack/data/glance/cache', stream_conf[('cache', 'directory')])
        self.assertEqual(api[('stream', 'ticket_key')], stream_conf[('stream', 'ticket_key')])
        self.assertNotIn(('oslo_middleware', 'enable_proxy_headers_parsing'), api)
        # the clean phase removes what init made; tempest is told what the API has
        self.assertIn('sudo rm -rf /opt/stack/data/glance/images /opt/stack/data/glance/cache '
                      '/opt/stack/data/glance', calls)
        self.assertIn('iniset /opt/stack/tempest/etc/tempest.conf image-feature-enabled '
                      'import_image True', calls)
        self.assertIn('iniset /opt/stack/tempest/etc/tempest.conf image-feature-enabled '
                      'manage_locations False', calls)

    def test_rabbit_turns_notifications_on_in_both_servers(self):
        _, calls = self._stack(ENABLED_SERVICES='key,mysql,rabbit,g-api')
        for conf in ('/etc/glance/glance-api.conf', '/etc/glance/glance-stream.conf'):
            self.assertEqual('messagingv2', self._inisets(calls, conf)[
                ('oslo_messaging_notifications', 'driver')])
            self.assertIn('iniset_rpc_backend glance %s' % conf, calls)
        _, calls = self._stack()
        self.assertFalse([c for c in calls if 'oslo_messaging' in c or 'rpc_backend' in c])

    def test_without_tempest_leaves_its_config_alone(self):
        _, calls = self._stack(ENABLED_SERVICES='key,mysql,g-api')
        self.assertFalse([c for c in calls if 'tempest.conf' in c])

    def test_tls_proxy(self):
        tmp, calls = self._stack(ENABLED_SERVICES='key,mysql,g-api,tls-proxy,tempest')
        url, stream = 'https://192.0.2.10:9292', 'https://192.0.2.10:9293'
        main = self._main(calls)
        self.assertIn('== cinder glance_api_servers %s' % url, main)
        self.assertIn('get_or_create_endpoint image RegionOne %s' % url, main)
        self.assertIn('wait_for_service 60 %s' % url, main)
        self.assertIn('start_tls_proxy glance-service * 9292 192.0.2.10 19292', calls)
        self.assertIn('start_tls_proxy glance-stream * 9293 192.0.2.10 19293', calls)
        self.assertLess(calls.index('start_tls_proxy glance-service * 9292 192.0.2.10 19292'),
                        calls.index('== uploading images'))
        api = self._inisets(calls, '/etc/glance/glance-api.conf')
        self.assertEqual('19292', api[('DEFAULT', 'bind_port')])
        self.assertEqual('True', api[('oslo_middleware', 'enable_proxy_headers_parsing')])
        self.assertEqual(stream, api[('stream', 'endpoints')])
        stream_conf = self._inisets(calls, '/etc/glance/glance-stream.conf')
        self.assertEqual('19293', stream_conf[('DEFAULT', 'bind_port')])

    def test_ipv6(self):
        _, calls = self._stack(SERVICE_HOST='[2001:db8::10]', LISTEN='::', HOST_IP='',
                               HOST_IPV6='2001:db8::10')
        url = 'http://[2001:db8::10]:9292'
        self.assertIn('get_or_create_endpoint image RegionOne %s' % url, calls)
        self.assertIn('== cinder glance_api_servers %s' % url, calls)
        api = self._inisets(calls, '/etc/glance/glance-api.conf')
        self.assertEqual('::', api[('DEFAULT', 'bind_host')])
        self.assertEqual('http://[2001:db8::10]:9293', api[('stream', 'endpoints')])
        self.assertEqual('127.0.0.0/8,::1/128,2001:db8::10',
                         api[('direct_link', 'file_clients')])

    def test_swift_gets_upstreams_glance_swift_user(self):
        _, calls = self._stack(ENABLED_SERVICES='key,mysql,g-api,s-proxy')
        self.assertIn('create_service_user glance-swift ResellerAdmin', calls)


class TestShellcheck(testtools.TestCase):
    """The plugin and the test-service scripts pass shellcheck (bindep.txt installs it)."""

    def test_shellcheck(self):
        if not shutil.which('shellcheck'):
            self.skipTest('shellcheck is not installed (apt-get install shellcheck)')
        scripts = [os.path.join(DEVSTACK, 'plugin.sh'), os.path.join(DEVSTACK, 'settings')]
        services = os.path.join(ROOT, 'tools', 'test-services')
        scripts += sorted(os.path.join(services, n) for n in os.listdir(services)
                          if n.endswith('.sh'))
        result = subprocess.run(['shellcheck', '-x'] + scripts, cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
