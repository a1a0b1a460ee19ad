"""Download tickets through real glance-api and glance-stream processes.

A ticket is a bearer credential while it lives: it must not land in glance-stream's access
log, and glance-stream refuses, with 401 and never 500, any ticket that is malformed or
claims to live longer than ``ticket_lifetime``, even when it is correctly signed.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import requests

from glance.tests.functional import base


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


class TestTickets(base.FunctionalTest):

    shared_servers = True
    server_kwargs = {'stream': True}

    def setUp(self):
        super().setUp()
        self.session = requests.Session()
        self.addCleanup(self.session.close)
        self.headers = {'X-Project-Id': 'ticket-tests', 'X-Roles': 'member,reader'}
        resp = self.session.post(self.servers.api_url + '/v2/images', headers=self.headers,
                                 json={'disk_format': 'raw', 'container_format': 'bare'})
        self.image_id = resp.json()['id']
        resp = self.session.put(
            self.servers.api_url + '/v2/images/%s/file' % self.image_id, data=b'payload',
            headers=dict(self.headers, **{'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)

    def signed(self, claims):
        payload = _b64(claims if isinstance(claims, bytes) else json.dumps(claims).encode())
        signature = hmac.new(self.servers.ticket_key.encode(), payload.encode('ascii'),
                             hashlib.sha256).digest()
        return '%s.%s' % (payload, _b64(signature))

    def stream_get(self, token):
        return self.session.get('%s/v2/images/%s/file' % (self.servers.stream_url,
                                                          self.image_id),
                                params={'ticket': token})

    def test_ticket_is_masked_in_the_stream_access_log(self):
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/file' % self.image_id,
                                headers=self.headers, allow_redirects=False)
        self.assertEqual(302, resp.status_code)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(
            resp.headers['Location']).query)['ticket'][0]
        resp = self.session.get(resp.headers['Location'])
        self.assertEqual(200, resp.status_code)
        self.assertEqual(b'payload', resp.content)
        # The access line is written once the response has gone: wait for it.
        deadline = time.monotonic() + 10
        while 'file?ticket=***' not in self.servers.stream.log() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        log = self.servers.stream.log()
        self.assertIn('file?ticket=***', log)
        for part in token.split('.'):
            self.assertNotIn(part, log)

    def test_long_lived_ticket_is_refused(self):
        claims = {'m': 'GET', 'i': self.image_id, 'p': 'ticket-tests', 'a': False,
                  'e': int(time.time()) + 30 * 365 * 86400}
        self.assertEqual(401, self.stream_get(self.signed(claims)).status_code)
        claims['e'] = int(time.time()) + 30
        self.assertEqual(200, self.stream_get(self.signed(claims)).status_code)

    def test_malformed_tickets_are_401(self):
        expires = int(time.time()) + 30
        for token in (self.signed(b'[1, 2, 3]'), self.signed(b'"a string"'),
                      self.signed(b'null'), self.signed(b'\xff\xfe not json'),
                      self.signed({'m': 'GET', 'i': self.image_id}),
                      self.signed({'m': 'GET', 'i': self.image_id, 'e': str(expires)}),
                      self.signed({'m': 'GET', 'i': self.image_id, 'e': expires,
                                   'p': {'x': 1}}),
                      '!!!.???', 'only-one-part', 'a.b.c', ''):
            resp = self.stream_get(token)
            self.assertEqual(401, resp.status_code, (token, resp.text))
        self.assertNotIn('Traceback', self.servers.stream.log())
