"""Direct links against real Swift (TempURL) and real S3 (SeaweedFS presigned GET).

The bytes are fetched through each link with plain curl, bypassing every Glance server, and
compared by hash. Then the links are abused: DELETE, PUT and POST with an issued link, an
expired link, a tampered one, and an ordinary user's own credentials, must all be refused,
and the object must be intact afterwards.
"""

import hashlib
import os
import subprocess
import time
import urllib.parse

import boto3
import botocore.exceptions
import requests
import swiftclient

from glance.tests.functional import base
from glance.tests.functional import keystone
from glance.tests.functional import secrets_scan
from glance.tests.functional import services

GLANCE_SWIFT_PASSWORD = services.GLANCE_SWIFT_PASSWORD
LIFETIME = 8


def curl(method, url, data=None):
    """(status, body) of one request with curl: nothing of Glance's on the path."""
    cmd = ['curl', '-s', '-g', '-X', method, '-o', '-', '-w', '\n%{http_code}', '--max-time',
           '60', url]
    if data is not None:
        cmd[1:1] = ['--data-binary', '@-', '-H', 'Content-Type: application/octet-stream']
    result = subprocess.run(cmd, input=data, capture_output=True, timeout=90)
    body, _, status = result.stdout.rpartition(b'\n')
    return int(status), body


class LinkTest(base.FunctionalTest):

    shared_servers = True
    admin = {'X-Roles': 'admin,member,reader'}
    service = {'X-Roles': 'service'}

    def upload(self, data, chunked=False):
        image = requests.post(self.servers.api_url + '/v2/images', headers=self.admin,
                              json={'disk_format': 'raw', 'container_format': 'bare'}).json()
        body = data
        if chunked:  # python-glanceclient style: size unknown
            body = (data[i:i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024))
        resp = requests.put(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            data=body, headers=dict(self.admin, **{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code,
                         '%s\n%s' % (resp.text, self.servers.api.log()[-3000:]))
        return image

    def link(self, image_id):
        resp = requests.get(self.servers.api_url + '/v2/images/%s/direct-link' % image_id,
                            headers=self.service)
        self.assertEqual(200, resp.status_code,
                         '%s\n%s' % (resp.text, self.servers.api.log()[-3000:]))
        body = resp.json()
        # the issue is logged, the link's signature never is
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(body['url']).query)
        signature = (query.get('temp_url_sig') or query.get('X-Amz-Signature'))[0]
        log = self.servers.api.log()
        self.assertIn('Direct link issued: image %s' % image_id, log)
        self.assertNotIn(signature.split(':')[-1], log)
        return body

    def assert_fetches(self, url, data):
        status, body = curl('GET', url)
        self.assertEqual(200, status, body[:300])
        self.assertEqual(hashlib.sha512(data).hexdigest(), hashlib.sha512(body).hexdigest())

    def assert_refused_and_intact(self, url, data):
        for method, payload in (('DELETE', None), ('PUT', b'overwritten'),
                                ('POST', b'overwritten')):
            status, body = curl(method, url, payload)
            self.assertIn(status, (401, 403, 405), '%s answered %d: %s'
                          % (method, status, body[:300]))
        self.assert_fetches(url, data)

    def assert_link_fields(self, body, data, store):
        self.assertEqual('GET', body['method'])
        self.assertEqual(store, body['store'])
        self.assertEqual(len(data), body['size'])
        self.assertEqual(hashlib.md5(data).hexdigest(), body['checksum'])
        self.assertEqual(hashlib.sha512(data).hexdigest(), body['os_hash_value'])
        expires = time.mktime(time.strptime(body['expires_at'], '%Y-%m-%dT%H:%M:%SZ'))
        expires -= time.timezone
        self.assertLess(abs(expires - (time.time() + LIFETIME)), 5)


class SwiftTempURLTest(LinkTest):
    """Servers on a single-tenant Swift store whose links live ``lifetime`` seconds."""

    lifetime = LIFETIME

    @classmethod
    def setUpClass(cls):
        services.skip_unless(services.swift_keystone)
        cls.container = 'glance-links-%d' % os.getpid()
        cls.ref_file = os.path.join('/tmp', 'glance-swift-link-refs-%d.conf' % os.getpid())
        store = services.swift_store(cls.container, cls.ref_file)
        # segmented (DLO) above 1 MiB, in 1 MiB segments
        store.update({'swift_store_large_object_size': '1',
                      'swift_store_large_object_chunk_size': '1'})
        cls.server_kwargs = {
            'common_conf': services.single_backend('swift', store),
            'api_conf': {'direct_link': {'lifetime': cls.lifetime, 'swift_digest': 'sha512',
                                         'swift_key_cache_time': 0}}}
        super().setUpClass()
        cls._class_servers.manage('direct-link', 'rotate-key')
        secrets_scan.add(cls._account_keys()[0])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if os.path.exists(cls.ref_file):
            os.unlink(cls.ref_file)

    @classmethod
    def _glance_swift(cls):
        return swiftclient.Connection(
            authurl=keystone.keystone()['auth_url'], user='glance',
            key=GLANCE_SWIFT_PASSWORD, auth_version='3',
            os_options={'project_name': 'service', 'user_domain_id': 'default',
                        'project_domain_id': 'default'})

    @classmethod
    def _account_keys(cls):
        headers = cls._glance_swift().head_account()
        return (headers.get('x-account-meta-temp-url-key'),
                headers.get('x-account-meta-temp-url-key-2'))


class TestSwiftTempURL(SwiftTempURLTest):

    def test_tempurl_fetch_with_curl_and_refusals(self):
        data = os.urandom(512 * 1024 + 5)
        image = self.upload(data)
        body = self.link(image['id'])
        self.assert_link_fields(body, data, 'objects')
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(body['url']).query)
        self.assertTrue(query['temp_url_sig'][0].startswith('sha512:'), body['url'])
        self.assert_fetches(body['url'], data)
        self.assert_refused_and_intact(body['url'], data)
        # tampered: another object, or another expiry, with the same signature
        split = urllib.parse.urlsplit(body['url'])
        other = body['url'].replace(image['id'], image['id'][:-1] + 'x')
        self.assertIn(curl('GET', other)[0], (401, 404))
        later = body['url'].replace('temp_url_expires=%s' % query['temp_url_expires'][0],
                                    'temp_url_expires=%d'
                                    % (int(query['temp_url_expires'][0]) + 3600))
        self.assertEqual(401, curl('GET', later)[0])
        # an ordinary user's own token cannot reach glance's container
        token = keystone.token_for('glance-test-a-member', 'glance-test-a')
        container_url = '%s://%s%s' % (split.scheme, split.netloc,
                                       split.path.rsplit('/', 1)[0])
        for method in ('GET', 'DELETE'):
            resp = requests.request(method, container_url + '/' + image['id'],
                                    headers={'X-Auth-Token': token})
            self.assertEqual(403, resp.status_code, method)
        resp = requests.get(container_url, headers={'X-Auth-Token': token})
        self.assertEqual(403, resp.status_code)
        self.assert_fetches(body['url'], data)
        # and it expires
        time.sleep(LIFETIME + 2)
        self.assertEqual(401, curl('GET', body['url'])[0])

    def test_segmented_image_through_the_link(self):
        data = os.urandom(2 * 1024 * 1024 + 512 * 1024 + 7)
        image = self.upload(data, chunked=True)
        names = [o['name'] for o in self._glance_swift().get_container(self.container)[1]]
        self.assertGreater(len([n for n in names if n.startswith(image['id'])]), 1,
                           'the image was not stored in segments: %s' % names)
        body = self.link(image['id'])
        self.assert_fetches(body['url'], data)
        self.assert_refused_and_intact(body['url'], data)


class TestSwiftKeyRotation(SwiftTempURLTest):
    # Links that outlive a rotation: glance-manage and the Keystone logins around it take
    # seconds on a busy machine, longer than the short lifetime the expiry tests use.
    lifetime = 300

    def test_rotation_keeps_issued_links_working(self):
        data = os.urandom(100 * 1024)
        image = self.upload(data)
        before = self.link(image['id'])
        old_key = self._account_keys()[0]
        result = self.servers.manage('direct-link', 'rotate-key')
        self.assertIn('Rotated the Temp-URL key of store objects', result.stdout)
        new_key, key_2 = self._account_keys()
        secrets_scan.add(new_key)
        self.assertEqual(old_key, key_2)
        self.assertNotEqual(old_key, new_key)
        self.assert_fetches(before['url'], data)  # signed with the old key: still valid
        after = self.link(image['id'])
        self.assertNotEqual(before['url'], after['url'])
        self.assert_fetches(after['url'], data)


class TestS3Presigned(LinkTest):

    @classmethod
    def setUpClass(cls):
        env = services.skip_unless(services.s3)
        cls.env = env
        store = services.s3_store(env)
        cls.bucket = store['s3_store_bucket']
        cls.server_kwargs = {
            'common_conf': services.single_backend('s3', store),
            'api_conf': {'direct_link': {'lifetime': LIFETIME,
                                         's3_access_key': env['S3_RO_ACCESS_KEY'],
                                         's3_secret_key': env['S3_RO_SECRET_KEY']}}}
        super().setUpClass()

    def client(self, access, secret):
        return boto3.client('s3', endpoint_url=self.env['S3_ENDPOINT'],
                            aws_access_key_id=access, aws_secret_access_key=secret,
                            region_name=self.env.get('S3_REGION', 'us-east-1'))

    def test_presigned_fetch_with_curl_and_refusals(self):
        data = os.urandom(3 * 1024 * 1024 + 1)
        image = self.upload(data)
        body = self.link(image['id'])
        self.assert_link_fields(body, data, 'objects')
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(body['url']).query)
        self.assertEqual('AWS4-HMAC-SHA256', query['X-Amz-Algorithm'][0])
        # signed with the read-only key pair
        self.assertTrue(query['X-Amz-Credential'][0].startswith(self.env['S3_RO_ACCESS_KEY']
                                                                + '/'))
        self.assert_fetches(body['url'], data)
        self.assert_refused_and_intact(body['url'], data)
        # tampered signature, or the signature moved to another object
        sig = query['X-Amz-Signature'][0]
        tampered = body['url'].replace(sig, ('0' if sig[0] != '0' else '1') + sig[1:])
        self.assertEqual(403, curl('GET', tampered)[0])
        other = body['url'].replace(image['id'], image['id'][:-1] + 'x')
        self.assertEqual(403, curl('GET', other)[0])
        # nobody reaches the bucket without glance's keys: anonymous, or a stranger's key
        plain = body['url'].split('?')[0]
        self.assertEqual(403, curl('GET', plain)[0])
        self.assertIn(curl('DELETE', plain)[0], (403, 405))
        stranger = self.client('someone', 'someone-else-secret')
        self.assertRaises(botocore.exceptions.ClientError, stranger.get_object,
                          Bucket=self.bucket, Key=image['id'])
        # the read-only key that signs links cannot write or delete either
        ro = self.client(self.env['S3_RO_ACCESS_KEY'], self.env['S3_RO_SECRET_KEY'])
        self.assertRaises(botocore.exceptions.ClientError, ro.delete_object,
                          Bucket=self.bucket, Key=image['id'])
        self.assertRaises(botocore.exceptions.ClientError, ro.put_object,
                          Bucket=self.bucket, Key=image['id'], Body=b'overwritten')
        self.assert_fetches(body['url'], data)
        time.sleep(LIFETIME + 2)
        self.assertEqual(403, curl('GET', body['url'])[0])
        self.assert_fetches(self.link(image['id'])['url'], data)


class TestS3PresignedWithStoreKeys(LinkTest):
    """Without a read-only pair, links are signed with the store's keys: still GET only."""

    @classmethod
    def setUpClass(cls):
        env = services.skip_unless(services.s3)
        cls.env = env
        cls.server_kwargs = {
            'common_conf': services.single_backend('s3', services.s3_store(env)),
            'api_conf': {'direct_link': {'lifetime': LIFETIME}}}
        super().setUpClass()

    def test_signed_with_the_store_keys_and_read_only(self):
        data = os.urandom(256 * 1024 + 3)
        image = self.upload(data)
        body = self.link(image['id'])
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(body['url']).query)
        self.assertTrue(query['X-Amz-Credential'][0].startswith(self.env['S3_ACCESS_KEY']
                                                                + '/'))
        self.assert_fetches(body['url'], data)
        self.assert_refused_and_intact(body['url'], data)
