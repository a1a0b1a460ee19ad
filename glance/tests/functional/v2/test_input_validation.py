"""Bad input is a 400 that says what is wrong, never a 500, and the same on every engine.

A new user tried integers beyond the columns, NUL bytes, lone surrogates, deeply nested JSON,
invalid UTF-8 in the URL and over-long names; each answered 500 with a traceback on one
engine or another, or was stored by SQLite and refused by PostgreSQL. Every case here runs
against a real glance-api on SQLite, PostgreSQL and MariaDB, and the class ends by checking
that the server logged no traceback at all.
"""

import json
import socket
import uuid

import requests

from glance.tests.functional import base
from glance.tests.functional import engines

PATCH = 'application/openstack-images-v2.1-json-patch'
BIG_INT = 2 ** 31          # one beyond min_ram / min_disk (INTEGER)
BIG_BIGINT = 2 ** 63       # one beyond size (BIGINT)


@engines.on_every_engine
class TestInputValidation(engines.FreshDatabase, base.FunctionalTest):

    shared_servers = True
    server_kwargs = {'stream': False}

    def setUp(self):
        super().setUp()
        self.project = 'p-' + uuid.uuid4().hex[:8]
        self.session = requests.Session()
        self.addCleanup(self.session.close)
        self.log_start = len(self.servers.api.log())
        self.addCleanup(self.assert_no_traceback)

    def assert_no_traceback(self):
        """What this test made the server log: no traceback, no 500."""
        log = self.servers.api.log()[self.log_start:]
        self.assertNotIn('Traceback', log)
        self.assertNotIn('" 500 ', log)

    def headers(self, **extra):
        headers = {'X-Project-Id': self.project, 'X-Roles': 'member,reader'}
        headers.update(extra)
        return headers

    def url(self, path):
        return self.servers.api_url + path

    def assert_400(self, resp, *words):
        self.assertEqual(400, resp.status_code, resp.text)
        for word in words:
            self.assertIn(word, resp.text)

    def create(self, body, expect=201, **headers):
        resp = self.session.post(self.url('/v2/images'), json=body,
                                 headers=self.headers(**headers))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp.json() if expect == 201 else resp

    def post_raw(self, data):
        return self.session.post(self.url('/v2/images'), data=data, headers=self.headers(
            **{'Content-Type': 'application/json'}))

    def patch(self, image_id, ops):
        return self.session.patch(self.url('/v2/images/%s' % image_id), data=json.dumps(ops),
                                  headers=self.headers(**{'Content-Type': PATCH}))

    def raw_get(self, target):
        """GET ``target`` byte for byte (requests would re-quote it); (status, body)."""
        with socket.create_connection(('127.0.0.1', self.servers.api_port), timeout=10) as s:
            s.sendall(b'GET ' + target + b' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'
                      b'X-Project-Id: ' + self.project.encode() + b'\r\n\r\n')
            data = b''
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b'\r\n\r\n')
        return int(head.split()[1]), body

    # --- numbers ---------------------------------------------------------------------------

    def test_integers_beyond_the_columns(self):
        for name in ('min_ram', 'min_disk'):
            self.assert_400(self.create({name: BIG_INT}, expect=400), name)
            self.assert_400(self.create({name: 1e20}, expect=400), name)
            self.assert_400(self.create({name: -1}, expect=400), name)
        self.assertEqual(BIG_INT - 1, self.create({'min_ram': BIG_INT - 1})['min_ram'])
        image = self.create({})
        self.assert_400(self.patch(image['id'], [
            {'op': 'replace', 'path': '/min_disk', 'value': BIG_INT}]), 'min_disk')
        self.assert_400(self.patch(image['id'], [
            {'op': 'replace', 'path': '/min_ram', 'value': 1e20}]), 'min_ram')

    def test_integers_beyond_the_columns_in_filters(self):
        for name, value in (('size_min', BIG_BIGINT), ('size_max', BIG_BIGINT),
                            ('size_min', '1e20'), ('min_ram', BIG_INT),
                            ('min_disk', BIG_INT), ('min_ram', '1e20'), ('limit', '1e20')):
            resp = self.session.get(self.url('/v2/images'), params={name: value},
                                    headers=self.headers())
            self.assert_400(resp, name)
        resp = self.session.get(self.url('/v2/images'),
                                params={'size_max': BIG_BIGINT - 1, 'min_ram': BIG_INT - 1},
                                headers=self.headers())
        self.assertEqual(200, resp.status_code, resp.text)

    # --- JSON ------------------------------------------------------------------------------

    def test_deeply_nested_json(self):
        self.assert_400(self.post_raw(b'[' * 50000 + b']' * 50000), 'nested')
        self.assert_400(self.post_raw(b'{"a": ' + b'[' * 40 + b']' * 40 + b'}'), 'nested')

    def test_lone_surrogate(self):
        self.assert_400(self.post_raw(b'{"name": "x\\ud800y"}'), 'surrogate')
        self.assert_400(self.post_raw(b'{"\\udfff": "value"}'), 'surrogate')
        image = self.create({})
        resp = self.session.patch(
            self.url('/v2/images/%s' % image['id']),
            data=b'[{"op": "add", "path": "/os_distro", "value": "\\ud83d"}]',
            headers=self.headers(**{'Content-Type': PATCH}))
        self.assert_400(resp, 'surrogate')

    def test_nul_in_body_strings(self):
        for body in ({'name': 'a\x00b'}, {'os_distro': 'a\x00b'}, {'a\x00b': 'v'},
                     {'tags': ['a\x00b']}, {'id': str(uuid.uuid4()) + '\x00'}):
            self.assert_400(self.create(body, expect=400), 'NUL')
        image = self.create({})
        self.assert_400(self.patch(image['id'], [
            {'op': 'add', 'path': '/x\x00y', 'value': 'v'}]), 'NUL')
        resp = self.session.post(self.url('/v2/images/%s/members' % image['id']),
                                 json={'member': 'a\x00b'}, headers=self.headers())
        self.assert_400(resp, 'NUL')

    def test_unicode_beyond_the_bmp_is_stored_alike(self):
        name = 'snow \u2603 and a cat \U0001f431'
        image = self.create({'name': name, 'os_distro': name, 'tags': [name]})
        shown = self.session.get(self.url('/v2/images/%s' % image['id']),
                                 headers=self.headers()).json()
        self.assertEqual((name, name, [name]),
                         (shown['name'], shown['os_distro'], shown['tags']))
        listed = self.session.get(self.url('/v2/images'), params={'name': name},
                                  headers=self.headers()).json()['images']
        self.assertEqual([image['id']], [i['id'] for i in listed])

    def test_names_differing_only_in_case(self):
        # Byte for byte on every engine (MySQL's columns are utf8mb4_bin): "a" and "A" are
        # two tags, two property names, two names to filter by.
        for body in ({'tags': ['a', 'A', 'a ', '\u00e9', 'e']},
                     {'Foo': 'x', 'foo': 'y', 'f\u00f6o': 'z'}):
            self.create(body)
        image = self.create({'tags': ['q'], 'name': 'Case', 'os_distro': 'Ubuntu'})
        resp = self.session.put(self.url('/v2/images/%s/tags/Q' % image['id']),
                                headers=self.headers())
        self.assertEqual(204, resp.status_code, resp.text)
        shown = self.session.get(self.url('/v2/images/%s' % image['id']),
                                 headers=self.headers()).json()
        self.assertEqual(['Q', 'q'], sorted(shown['tags']))
        resp = self.session.delete(self.url('/v2/images/%s/tags/q' % image['id']),
                                   headers=self.headers())
        self.assertEqual(204, resp.status_code, resp.text)
        for params, expected in (({'name': 'case'}, []), ({'name': 'Case'}, [image['id']]),
                                 ({'os_distro': 'ubuntu'}, []), ({'tag': 'q'}, []),
                                 ({'tag': 'Q'}, [image['id']])):
            listed = self.session.get(self.url('/v2/images'), params=params,
                                      headers=self.headers()).json()['images']
            self.assertEqual(expected, [i['id'] for i in listed], params)

    # --- names and lengths -----------------------------------------------------------------

    def test_property_names(self):
        self.assert_400(self.create({'': 'v'}, expect=400), 'empty')
        self.assert_400(self.create({'p' * 256: 'v'}, expect=400), '255')
        self.create({'p' * 255: 'v'})
        image = self.create({})
        self.assert_400(self.patch(image['id'], [
            {'op': 'add', 'path': '/' + 'p' * 256, 'value': 'v'}]), '255')
        self.assert_400(self.patch(image['id'], [{'op': 'add', 'path': '/', 'value': 'v'}]))

    def test_property_value_longer_than_every_engine_stores(self):
        self.assert_400(self.create({'description': 'x' * 65536}, expect=400), '65535')
        # bytes count, not characters: 3 bytes each
        body = json.dumps({'description': '\u2603' * 21846}, ensure_ascii=False)
        self.assert_400(self.post_raw(body.encode('utf-8')), '65535')
        self.create({'description': 'x' * 65535})

    def test_tags_and_members_too_long(self):
        image = self.create({'visibility': 'shared'})
        resp = self.session.put(self.url('/v2/images/%s/tags/%s' % (image['id'], 't' * 256)),
                                headers=self.headers())
        self.assert_400(resp, '255')
        self.assert_400(self.create({'tags': ['t' * 256]}, expect=400), 'tags')
        resp = self.session.post(self.url('/v2/images/%s/members' % image['id']),
                                 json={'member': 'm' * 256}, headers=self.headers())
        self.assert_400(resp, '255')

    def test_project_id_too_long(self):
        resp = self.session.post(self.url('/v2/images'), json={},
                                 headers=self.headers(**{'X-Project-Id': 'q' * 256}))
        self.assert_400(resp, 'project', '255')
        resp = self.session.get(self.url('/v2/images'),
                                headers=self.headers(**{'X-Project-Id': 'q' * 256}))
        self.assert_400(resp, 'project')

    def test_long_image_id_is_not_found(self):
        resp = self.session.get(self.url('/v2/images/' + 'i' * 300), headers=self.headers())
        self.assertEqual(404, resp.status_code, resp.text)

    # --- URLs ------------------------------------------------------------------------------

    def test_nul_and_invalid_utf8_in_the_url(self):
        image = self.create({})
        for target in (b'/v2/images/%00', b'/v2/images/%FF', b'/v2/images/\xff',
                       b'/v2/images/%ED%A0%80', b'/v2/images?name=a%00b',
                       b'/v2/images?name=%FF', b'/v2/images?%FF=1', b'/v2/images?tag=a%00',
                       b'/v2/images?os_distro=%00', b'/v2/images?id=in:a,%00',
                       b'/v2/images?marker=%00', b'/v2/images?created_at=%00',
                       b'/v2/images/' + image['id'].encode() + b'/tags/a%00b',
                       b'/v2/images/' + image['id'].encode() + b'/members/%C0%80'):
            status, body = self.raw_get(target)
            self.assertEqual(400, status, (target, body))
        status, _ = self.raw_get(b'/v2/images?name=%C3%A9t%C3%A9')
        self.assertEqual(200, status)

    # --- filters ---------------------------------------------------------------------------

    def test_date_filter_without_operator_means_eq(self):
        image = self.create({})
        when = image['created_at']
        for value, expected in ((when, [image['id']]), ('eq:' + when, [image['id']]),
                                ('2001-01-01T00:00:00Z', []), ('gte:' + when, [image['id']])):
            resp = self.session.get(self.url('/v2/images'),
                                    params={'created_at': value, 'owner': self.project},
                                    headers=self.headers())
            self.assertEqual(200, resp.status_code, resp.text)
            self.assertEqual(expected, [i['id'] for i in resp.json()['images']], value)
        for bad in ('yesterday', 'between:2020-01-01T00:00:00Z', 'eq:'):
            resp = self.session.get(self.url('/v2/images'), params={'created_at': bad},
                                    headers=self.headers())
            self.assert_400(resp, 'created_at')

    # --- uploads ---------------------------------------------------------------------------

    def test_upload_with_another_content_type_is_415(self):
        image = self.create({'disk_format': 'raw', 'container_format': 'bare'})
        url = self.url('/v2/images/%s/file' % image['id'])
        for media_type in ('application/json', 'text/plain', 'multipart/form-data; b=x'):
            resp = self.session.put(url, data=b'abc',
                                    headers=self.headers(**{'Content-Type': media_type}))
            self.assertEqual(415, resp.status_code, resp.text)
            self.assertIn('application/octet-stream', resp.text)
        resp = self.session.put(url, data=b'abc', headers=self.headers(
            **{'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        image = self.create({'disk_format': 'raw', 'container_format': 'bare'})
        resp = self.session.put(self.url('/v2/images/%s/file' % image['id']), data=b'abc',
                                headers=self.headers())  # no Content-Type: octet-stream
        self.assertEqual(204, resp.status_code, resp.text)
