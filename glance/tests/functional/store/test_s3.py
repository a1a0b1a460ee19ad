"""Images stored in a real S3 server (SeaweedFS): upload, download, Range, delete."""

import hashlib
import os

import boto3
import requests

from glance.tests.functional import base
from glance.tests.functional import services


class TestS3Backend(base.FunctionalTest):

    shared_servers = True

    @classmethod
    def setUpClass(cls):
        env = services.skip_unless(services.s3)
        cls.env = env
        store = services.s3_store(env)
        cls.bucket = store['s3_store_bucket']
        cls.server_kwargs = {'common_conf': services.single_backend('s3', store)}
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.s3 = boto3.client('s3', endpoint_url=self.env['S3_ENDPOINT'],
                               aws_access_key_id=self.env['S3_ACCESS_KEY'],
                               aws_secret_access_key=self.env['S3_SECRET_KEY'],
                               region_name=self.env.get('S3_REGION', 'us-east-1'))

    def _keys(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket)
        return [o['Key'] for o in resp.get('Contents', [])]

    def test_round_trip_range_and_delete(self):
        headers = {'X-Roles': 'admin,member,reader'}
        image = requests.post(self.servers.api_url + '/v2/images', headers=headers,
                              json={'disk_format': 'raw', 'container_format': 'bare'}).json()
        data = os.urandom(3 * 1024 * 1024 + 9)
        resp = requests.put(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            data=data, headers=dict(headers, **{
                                'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code,
                         '%s\n%s' % (resp.text, self.servers.api.log()[-4000:]))
        self.assertIn(image['id'], self._keys())
        shown = requests.get(self.servers.api_url + '/v2/images/%s' % image['id'],
                             headers=headers).json()
        self.assertEqual(hashlib.sha512(data).hexdigest(), shown['os_hash_value'])

        resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            headers=headers)
        self.assertEqual(data, resp.content)
        resp = requests.get(self.servers.api_url + '/v2/images/%s/file' % image['id'],
                            headers=dict(headers, Range='bytes=1048570-1048580'))
        self.assertEqual(206, resp.status_code)
        self.assertEqual(data[1048570:1048581], resp.content)

        for body in (resp.text, str(resp.headers), str(shown)):
            self.assertNotIn(self.env['S3_SECRET_KEY'], body)
        requests.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                        headers=headers)
        self.assertNotIn(image['id'], self._keys())
        for log in (self.servers.api.log(), self.servers.stream.log()):
            self.assertNotIn(self.env['S3_SECRET_KEY'], log)
