"""Data registered by location in a real Swift and a real S3 (SeaweedFS).

A service writes an object into the store's container or bucket itself (as Cinder and Nova
do on Ceph) and registers it on a queued image with ``POST /v2/images/{id}/locations``:
the image is hashed in the background, then downloadable through glance-stream and by
direct link, fetched with plain curl. A URL in another container or bucket, on another
host, with credentials of its own, or naming another image's object is refused.
"""

import hashlib
import os
import time
import uuid

import boto3
import requests

from glance.tests.functional.data import test_data_path
from glance.tests.functional import services
from glance.tests.functional.store import test_direct_links

SERVICE = {'X-Roles': 'service'}


class _RegisteredData:
    """The story, for any store.

    Subclasses say how a service writes an object there (``put_object``), its URL
    (``url_of``) and the URLs refused (``refusals``).
    """

    def register(self, image_id, url, expect=202):
        resp = requests.post(self.servers.api_url + '/v2/images/%s/locations' % image_id,
                             headers=SERVICE, json={'url': url})
        self.assertEqual(expect, resp.status_code,
                         '%s\n%s' % (resp.text, self.servers.api.log()[-3000:]))
        return resp

    def queued(self):
        return requests.post(self.servers.api_url + '/v2/images', headers=self.admin,
                             json={'disk_format': 'raw', 'container_format': 'bare'}).json()

    def show(self, image_id):
        return requests.get(self.servers.api_url + '/v2/images/%s' % image_id,
                            headers=self.admin).json()

    def test_registered_object_is_hashed_streamed_and_linked(self):
        data = os.urandom(2 * 1024 * 1024 + 33)
        name = 'registered-%s' % uuid.uuid4()
        self.put_object(name, data)
        image = self.queued()
        self.register(image['id'], self.url_of(name))
        # active at once (no hash given to check first); the task brings the hashes
        self.assertTrue(test_data_path.wait_for(
            lambda: self.show(image['id'])['os_hash_value'], 60),
            self.servers.api.log()[-3000:])
        shown = self.show(image['id'])
        self.assertEqual(('active', len(data), hashlib.md5(data).hexdigest(),
                          hashlib.sha512(data).hexdigest()),
                         (shown['status'], shown['size'], shown['checksum'],
                          shown['os_hash_value']), self.servers.api.log()[-3000:])
        resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            headers=self.admin)
        self.assertEqual(data, resp.content)  # through glance-stream, verified
        resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            headers=dict(self.admin, Range='bytes=-100'))
        self.assertEqual((206, data[-100:]), (resp.status_code, resp.content))
        body = self.link(image['id'])
        self.assertEqual(hashlib.sha512(data).hexdigest(), body['os_hash_value'])
        self.assert_fetches(body['url'], data)
        self.assert_refused_and_intact(body['url'], data)
        listed = requests.get(self.servers.api_url + '/v2/images/%s/locations' % image['id'],
                              headers=SERVICE).json()
        self.assertEqual([self.url_of(name)], [loc['url'] for loc in listed])

    def test_other_places_and_other_images_objects_are_refused(self):
        uploaded = self.upload(os.urandom(4096))
        image = self.queued()
        for url, reason in self.refusals(uploaded['id']).items():
            resp = self.register(image['id'], url, expect=400)
            self.assertIn(reason, resp.text, url)
        self.assertEqual('queued', self.show(image['id'])['status'])
        self.assertEqual('active', self.show(uploaded['id'])['status'])


class TestSwiftLocations(_RegisteredData, test_direct_links.SwiftTempURLTest):

    lifetime = 300

    def put_object(self, name, data):
        self._glance_swift().put_object(self.container, name, data)

    def url_of(self, name):
        return 'swift+config://ref1/%s/%s' % (self.container, name)

    def refusals(self, uploaded_id):
        return {
            'swift+config://ref1/another-container/x': 'not the container of store objects',
            'swift+config://ref2/%s/x' % self.container: 'not found for account reference',
            'swift+http://glance:secret@127.0.0.1:8080/v1/AUTH_x/%s/x' % self.container:
                'no configured store takes swift+http URLs',
            self.url_of('missing-%s' % uuid.uuid4()): 'has no data at this URL',
            self.url_of(uploaded_id): 'another image',
        }


class TestS3Locations(_RegisteredData, test_direct_links.LinkTest):

    @classmethod
    def setUpClass(cls):
        env = services.skip_unless(services.s3)
        cls.env = env
        store = services.s3_store(env)
        cls.bucket = store['s3_store_bucket']
        cls.host = store['s3_store_host'].split('://', 1)[-1]
        cls.server_kwargs = {
            'common_conf': services.single_backend('s3', store),
            'api_conf': {'direct_link': {'lifetime': 300,
                                         's3_access_key': env['S3_RO_ACCESS_KEY'],
                                         's3_secret_key': env['S3_RO_SECRET_KEY']}}}
        super().setUpClass()

    def put_object(self, name, data):
        boto3.client('s3', endpoint_url=self.env['S3_ENDPOINT'],
                     aws_access_key_id=self.env['S3_ACCESS_KEY'],
                     aws_secret_access_key=self.env['S3_SECRET_KEY'],
                     region_name=self.env.get('S3_REGION', 'us-east-1')).put_object(
            Bucket=self.bucket, Key=name, Body=data)

    def url_of(self, name):
        return 's3://%s/%s/%s' % (self.host, self.bucket, name)

    def refusals(self, uploaded_id):
        return {
            's3://%s/another-bucket/x' % self.host: 'not the bucket of store objects',
            's3://169.254.169.254/%s/x' % self.bucket: 'not the host of store objects',
            self.url_of('missing-%d' % time.time_ns()): 'has no data at this URL',
            self.url_of(uploaded_id): 'another image',
        }
