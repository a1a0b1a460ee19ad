"""One client call can be followed through both servers' logs by its request id.

A client sends ``X-OpenStack-Request-ID`` (its global request id); glance-api logs it with
its own request id, and forwards it (keystoneauth1, glance.common.http) on the calls it
makes to glance-stream, whose log shows it too. The osprofiler filter sits in both
pipelines and, off by default, lets traced requests through untouched.
"""

import re
import time
import uuid

import requests

from glance.tests.functional import base

ADMIN = {'X-Roles': 'admin,member,reader', 'X-Project-Id': 'ops'}


class TestRequestIds(base.FunctionalTest):

    shared_servers = True

    def wait_logged(self, server, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = server.log()
            if text in log:
                return log
            time.sleep(0.2)
        self.fail('%s never logged %s:\n%s' % (server.name, text, server.log()[-3000:]))

    def test_global_request_id_in_both_logs(self):
        global_id = 'req-%s' % uuid.uuid4()
        resp = requests.get(self.servers.api_url + '/v2/cache', timeout=30,
                            headers=dict(ADMIN, **{'X-OpenStack-Request-ID': global_id}))
        self.assertEqual(200, resp.status_code, resp.text)
        local_id = resp.headers['X-OpenStack-Request-ID']
        self.assertNotEqual(global_id, local_id)
        # glance-api: the global id, then its own, in the context part of its log line
        api_log = self.wait_logged(self.servers.api, global_id)
        self.assertRegex(api_log, r'\[%s %s ' % (re.escape(global_id), re.escape(local_id)))
        # glance-stream: the same global id on the cache API call glance-api made
        stream_log = self.wait_logged(self.servers.stream, global_id)
        line = [x for x in stream_log.splitlines() if global_id in x][0]
        self.assertIn('GET /cache', line)
        stream_local = re.search(r'\[%s (req-[0-9a-f-]+) ' % re.escape(global_id), line)
        self.assertIsNotNone(stream_local, line)
        self.assertNotIn(stream_local.group(1), (global_id, local_id))

    def test_without_a_global_id_glance_api_forwards_its_own(self):
        resp = requests.get(self.servers.api_url + '/v2/cache', headers=ADMIN, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        local_id = resp.headers['X-OpenStack-Request-ID']
        stream_log = self.wait_logged(self.servers.stream, local_id)
        self.assertIn('GET /cache', [x for x in stream_log.splitlines() if local_id in x][0])

    def test_malformed_global_id_is_not_taken(self):
        resp = requests.get(self.servers.api_url + '/v2/cache', timeout=30,
                            headers=dict(ADMIN, **{'X-OpenStack-Request-ID': 'not-an-id'}))
        self.assertEqual(200, resp.status_code)
        self.assertNotIn('not-an-id', self.servers.api.log())

    def test_profiler_filter_is_off_by_default(self):
        # trace headers (any, since no hmac key is configured) change nothing
        resp = requests.get(self.servers.api_url + '/v2/images', timeout=30,
                            headers=dict(ADMIN, **{'X-Trace-Info': 'eyJiYXNlX2lkIjogIjEifQ==',
                                                   'X-Trace-HMAC': '0' * 40}))
        self.assertEqual(200, resp.status_code)
        self.assertNotIn('X-Trace-Info', resp.headers)
        for name in ('glance-api-paste.ini', 'glance-stream-paste.ini'):
            with open('%s/%s' % (base.ETC, name)) as f:
                pipelines = [line for line in f if line.startswith('pipeline =')]
            self.assertTrue(all(' osprofiler ' in line for line in pipelines), name)

    def test_glance_manage_calls_carry_one_request_id(self):
        result = self.servers.manage('cache', 'list')
        output = result.stdout + result.stderr  # oslo.log writes to stdout by default
        found = re.search(r'glance-manage cache list: request id (req-[0-9a-f-]+)', output)
        self.assertIsNotNone(found, output[-2000:])
        line = [x for x in self.wait_logged(self.servers.stream, found.group(1)).splitlines()
                if found.group(1) in x][0]
        self.assertIn('GET /cache', line)
