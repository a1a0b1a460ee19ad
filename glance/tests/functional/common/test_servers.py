"""Both servers start from the paste files, answer versions and health, and stop cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import testtools

from glance.tests.functional import base


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


class TestServersStart(base.FunctionalTest):

    server_kwargs = {'workers': 2}

    def test_versions_document(self):
        status, body, headers = _get(self.servers.api_url + '/versions')
        self.assertEqual(200, status)
        versions = json.loads(body)['versions']
        ids = [v['id'] for v in versions]
        self.assertIn('v2.0', ids)
        self.assertEqual(['CURRENT'], [v['status'] for v in versions
                                       if v['status'] == 'CURRENT'])
        self.assertTrue(all(v['links'][0]['href'] == self.servers.api_url + '/v2/'
                            for v in versions))

    def test_root_is_multiple_choices(self):
        status, body, _ = _get(self.servers.api_url + '/')
        self.assertEqual(300, status)
        self.assertIn('versions', json.loads(body))

    def test_unknown_version_is_multiple_choices(self):
        status, _, _ = _get(self.servers.api_url + '/v1/images')
        self.assertEqual(300, status)

    def test_healthchecks(self):
        self.assertEqual(200, _get(self.servers.api_url + '/healthcheck')[0])
        self.assertEqual(200, _get(self.servers.stream_url + '/healthcheck')[0])

    def test_request_id_header(self):
        _, _, headers = _get(self.servers.api_url + '/versions')
        self.assertTrue(headers['X-Openstack-Request-Id'].startswith('req-'))

    def test_wrong_method_answers_405_with_allow(self):
        req = urllib.request.Request(self.servers.api_url + '/v2/schemas/image',
                                     method='DELETE')
        try:
            urllib.request.urlopen(req, timeout=10)
            self.fail('DELETE on a schema was accepted')
        except urllib.error.HTTPError as e:
            self.assertEqual(405, e.code)
            self.assertEqual('GET', e.headers['Allow'])

    def test_sigterm_leaves_no_process(self):
        pid = self.servers.api.proc.pid
        children = subprocess.run(['pgrep', '-P', str(pid)], capture_output=True,
                                  text=True).stdout.split()
        self.assertEqual(2, len(children), 'expected 2 workers')
        self.assertEqual(0, self.servers.api.stop(signal.SIGTERM))
        for child in children:
            self.assertFalse(os.path.exists('/proc/%s' % child) and
                             'Z' not in open('/proc/%s/stat' % child).read().split()[2],
                             'worker %s survived' % child)


class TestBadConfig(testtools.TestCase):
    """A server that cannot start says why in one line, without a traceback."""

    def setUp(self):
        super().setUp()
        self.fixture = self.useFixture(base.ServerFixture(stream=False))

    def _start(self, **options):
        path = os.path.join(self.fixture.dir, 'bad.conf')
        conf = {'DEFAULT': {'state_path': self.fixture.state, 'workers': 1},
                'database': {'connection': 'sqlite:///%s/glance.sqlite' % self.fixture.dir},
                'paste_deploy': {'flavor': 'noauth'}}
        for key, value in options.items():
            section, option = key.split('__')
            conf.setdefault(section, {})[option] = value
        base.write_conf(path, conf)
        result = subprocess.run([sys.executable, '-m', 'glance.cmd.api', '--config-file', path],
                                cwd=base.ROOT, capture_output=True, text=True, timeout=60)
        self.assertEqual(1, result.returncode, result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        return result.stderr

    def test_port_in_use(self):
        err = self._start(DEFAULT__bind_port=self.fixture.api_port)
        self.assertIn('cannot listen on 127.0.0.1:%d' % self.fixture.api_port, err)
        self.assertIn('Address already in use', err)

    def test_bad_option_value(self):
        err = self._start(DEFAULT__workers='many', DEFAULT__bind_port=base.free_port())
        self.assertIn('workers', err)

    def test_unreachable_database(self):
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = sock.getsockname()[1]  # nothing listens there once closed
        err = self._start(DEFAULT__bind_port=base.free_port(),
                          database__connection='mysql+pymysql://root@127.0.0.1:%d/x' % port,
                          database__max_retries='0')
        self.assertIn('cannot reach the database', err)

    def test_unknown_flavor(self):
        err = self._start(DEFAULT__bind_port=base.free_port(),
                          paste_deploy__flavor='nonesuch')
        self.assertIn('glance-api-nonesuch', err)
        self.assertIn('[paste_deploy] flavor "nonesuch"', err)

    def test_missing_database_driver_is_one_line(self):
        err = self._start(DEFAULT__bind_port=base.free_port(),
                          database__connection='mysql+mysqldb://root@127.0.0.1/x')
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertIn('"mysql+mysqldb"', lines[0])
        self.assertIn('not installed', lines[0])


class TestSighup(base.FunctionalTest):
    """SIGHUP re-reads the configuration and replaces every worker."""

    server_kwargs = {'workers': 2, 'stream': False}

    def _children(self):
        out = subprocess.run(['pgrep', '-P', str(self.servers.api.proc.pid)],
                             capture_output=True, text=True).stdout.split()
        return set(out)

    def test_reload_replaces_workers_and_applies_config(self):
        old = self._children()
        self.assertEqual(2, len(old))
        with open(self.servers.api_conf_path, 'a') as f:
            f.write('\n[DEFAULT]\npublic_endpoint = http://images.example.com\n')
        os.kill(self.servers.api.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = self._children()
            if len(now) == 2 and not (now & old):
                break
            time.sleep(0.2)
        self.assertEqual(2, len(now))
        self.assertFalse(now & old, 'old workers still running after SIGHUP')
        status, body, _ = _get(self.servers.api_url + '/versions')
        self.assertEqual(200, status)
        self.assertEqual('http://images.example.com/v2/',
                         json.loads(body)['versions'][0]['links'][0]['href'])


class TestReloadBrokenPaste(base.FunctionalTest):
    """SIGHUP with a pipeline naming an undeclared filter.

    The old workers stay, and the log names the filter (not the flavor).
    """

    server_kwargs = {'workers': 1, 'stream': False}

    def test_missing_filter_is_named(self):
        paste = os.path.join(self.servers.dir, 'glance-api-paste.ini')
        with open(paste) as f:
            text = f.read()
        self.assertIn('unauthenticated_context apiv2app', text)
        with open(paste, 'w') as f:
            f.write(text.replace('unauthenticated_context apiv2app',
                                 'unauthenticated_context ratelimit apiv2app'))
        os.kill(self.servers.api.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        line = None
        while time.monotonic() < deadline and line is None:
            for candidate in self.servers.api.log().splitlines():
                if 'keeps its workers' in candidate:
                    line = candidate
            time.sleep(0.2)
        self.assertIsNotNone(line, self.servers.api.log()[-2000:])
        self.assertIn('names the filter "ratelimit", which has no [filter:ratelimit] '
                      'section', line)
        self.assertNotIn('flavor', line)
        self.assertEqual(1, line.count(paste), line)
        status, _, _ = _get(self.servers.api_url + '/versions')
        self.assertEqual(200, status)


class TestUwsgi(testtools.TestCase):
    """glance.wsgi.api:application serves under uWSGI with the sample ini's settings."""

    def test_api_under_uwsgi(self):
        uwsgi = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
        if not os.path.exists(uwsgi):
            self.skipTest('uWSGI is not installed (pyuwsgi is in test-requirements.txt)')
        fixture = self.useFixture(base.ServerFixture(stream=False))
        fixture.api.stop()
        port = base.free_port()
        ini = os.path.join(fixture.dir, 'uwsgi.ini')
        with open(os.path.join(base.ETC, 'glance-api-uwsgi.ini.sample')) as f:
            sample = f.read()
        sample = sample.replace('127.0.0.1:9292', '127.0.0.1:%d' % port)
        sample = sample.replace('/etc/glance/glance-api.conf', fixture.api_conf_path)
        with open(ini, 'w') as f:
            f.write(sample)
        log = open(os.path.join(fixture.dir, 'uwsgi.log'), 'wb')
        proc = subprocess.Popen([uwsgi, '--ini', ini], stdout=log, stderr=subprocess.STDOUT,
                                cwd=base.ROOT, start_new_session=True)
        self.addCleanup(lambda: (os.killpg(proc.pid, signal.SIGKILL), proc.wait()))
        base.wait_http('http://127.0.0.1:%d/versions' % port, 60, proc, log.name)
        status, body, _ = _get('http://127.0.0.1:%d/versions' % port)
        self.assertEqual(200, status)
        self.assertIn('v2.0', body.decode())
        self.assertEqual(200, _get('http://127.0.0.1:%d/healthcheck' % port)[0])


class TestCommonMiddleware(base.FunctionalTest):
    """The filters every glance-api request passes: size limit, proxy headers, CORS."""

    shared_servers = True
    server_kwargs = {'stream': False, 'api_conf': {
        'oslo_middleware': {'enable_proxy_headers_parsing': 'true',
                            'max_request_body_size': 1024},
        'cors': {'allowed_origin': 'https://dashboard.example.com'},
    }}

    def test_oversized_body_is_413(self):
        req = urllib.request.Request(self.servers.api_url + '/v2/images', method='POST',
                                     data=b'{"name": "%s"}' % (b'x' * 4096),
                                     headers={'Content-Type': 'application/json'})
        try:
            urllib.request.urlopen(req, timeout=10)
            self.fail('an oversized body was accepted')
        except urllib.error.HTTPError as e:
            self.assertEqual(413, e.code)

    def test_forwarded_headers_shape_links(self):
        req = urllib.request.Request(self.servers.api_url + '/versions', headers={
            'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'images.example.com'})
        with urllib.request.urlopen(req, timeout=10) as resp:
            versions = json.loads(resp.read())['versions']
        self.assertEqual('https://images.example.com/v2/', versions[0]['links'][0]['href'])

    def test_cors_preflight(self):
        req = urllib.request.Request(self.servers.api_url + '/v2/images', method='OPTIONS',
                                     headers={'Origin': 'https://dashboard.example.com',
                                              'Access-Control-Request-Method': 'GET'})
        with urllib.request.urlopen(req, timeout=10) as resp:
            self.assertEqual('https://dashboard.example.com',
                             resp.headers['Access-Control-Allow-Origin'])

    def test_versioned_path_reaches_v2(self):
        status, body, _ = _get(self.servers.api_url + '/v2.1/schemas/image')
        self.assertNotEqual(300, status)
        status, _, _ = _get(self.servers.api_url + '/v2.99/schemas/image')
        self.assertEqual(300, status)
