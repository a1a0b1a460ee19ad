"""glance-api killed (SIGKILL) in the middle of an upload to a store that is not the default
one: the restarted server finds the image stuck in saving, deletes the partial data in the
store the upload went to (a file, Swift segments, an S3 multipart upload) and queues the
image again, which then uploads normally. Real Swift and S3 servers (tools/test-services)."""

import os
import socket
import time

import boto3
import requests
import swiftclient

from glance.tests.functional import base
from glance.tests.functional import engines
from glance.tests.functional import keystone
from glance.tests.functional import services

HEADERS = {'X-Roles': 'admin,member,reader', 'X-Project-Id': 'recovery-project'}
MiB = 1024 * 1024


class _RecoveryTest:
    """The story, for each kind of store (mixed into a FunctionalTest per kind)."""

    shared_servers = False
    # the non-default store under test, named "objects"; "local" (file) stays the default
    store_options = None
    store_kind = None
    engine = 'sqlite'

    def setUp(self):
        url, drop = engines.database_url(self.engine)
        self.addCleanup(drop)
        self.server_kwargs = {
            'stream': False, 'connection': url,
            'common_conf': {'DEFAULT': {'enabled_backends': 'local:file,objects:%s'
                                        % self.store_kind},
                            'glance_store': {'default_backend': 'local'},
                            'objects': self.store_options()},
            'api_conf': {'DEFAULT': {'housekeeping_interval': 1}}}
        super().setUp()

    def create(self):
        resp = requests.post(self.servers.api_url + '/v2/images', headers=HEADERS,
                             json={'disk_format': 'raw', 'container_format': 'bare'})
        self.assertEqual(201, resp.status_code, resp.text)
        return resp.json()['id']

    def status(self, image_id):
        return requests.get(self.servers.api_url + '/v2/images/%s' % image_id,
                            headers=HEADERS).json()['status']

    def wait_for(self, predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        self.fail('%s: not after %d s (status %s, store holds %s)\n%s' % (
            what, timeout, self.status(self.image_id), self.partial_data(self.image_id),
            self.servers.api.log()[-3000:]))

    def start_upload(self, image_id, sent, total=None):
        """A raw upload to store "objects" that sends ``sent`` bytes and then stalls.

        With ``total`` the request announces Content-Length (S3 then uploads in parts);
        without, it is chunked, size unknown (Swift then writes segments).
        """
        sock = socket.create_connection(('127.0.0.1', self.servers.api.port), timeout=30)
        self.addCleanup(sock.close)
        head = ['PUT /v2/images/%s/file HTTP/1.1' % image_id, 'Host: 127.0.0.1',
                'Content-Type: application/octet-stream', 'X-Image-Meta-Store: objects']
        head += ['%s: %s' % item for item in HEADERS.items()]
        head.append('Content-Length: %d' % total if total else 'Transfer-Encoding: chunked')
        sock.sendall(('\r\n'.join(head) + '\r\n\r\n').encode())
        block = os.urandom(MiB)
        for _ in range(sent // MiB):
            if total:
                sock.sendall(block)
            else:
                sock.sendall(b'%x\r\n' % len(block) + block + b'\r\n')
        return sock

    def partial_data(self, image_id):
        raise NotImplementedError

    def test_killed_upload_is_cleaned_in_its_own_store(self):
        image_id = self.image_id = self.create()
        self.upload_socket = self.start_upload(image_id, **self.upload_shape)
        self.wait_for(lambda: self.status(image_id) == 'saving' and
                      self.partial_data(image_id), 'partial data in the store')
        self.servers.api.kill()
        self.servers.api.start()
        self.wait_for(lambda: self.status(image_id) == 'queued', 'image queued again')
        self.wait_for(lambda: not self.partial_data(image_id), 'partial data removed',
                      timeout=10)
        self.assertIn('Recovered image %s: its upload to store objects' % image_id,
                      self.servers.api.log())
        # The image takes a new upload, to the same store.
        data = os.urandom(2 * MiB + 1)
        resp = requests.put(self.servers.api_url + '/v2/images/%s/file' % image_id,
                            data=data, headers=dict(HEADERS, **{
                                'Content-Type': 'application/octet-stream',
                                'X-Image-Meta-Store': 'objects'}))
        self.assertEqual(204, resp.status_code, resp.text)
        self.assertEqual('active', self.status(image_id))


@engines.on_every_engine
class TestFileStoreRecovery(_RecoveryTest, base.FunctionalTest):
    store_kind = 'file'
    upload_shape = {'sent': 3 * MiB}

    def store_options(self):
        self.datadir = os.path.join('/tmp', 'glance-recovery-%d-%s' % (os.getpid(), id(self)))
        self.addCleanup(lambda: __import__('shutil').rmtree(self.datadir, True))
        return {'filesystem_store_datadir': self.datadir}

    def partial_data(self, image_id):
        return os.path.exists(os.path.join(self.datadir, image_id))


class TestSwiftRecovery(_RecoveryTest, base.FunctionalTest):
    store_kind = 'swift'
    # chunked, size unknown: glance_store writes 1 MiB segments <id>-00001, ...
    upload_shape = {'sent': 4 * MiB}

    def store_options(self):
        services.skip_unless(services.swift_keystone)
        self.container = 'glance-recovery-%d' % os.getpid()
        ref_file = os.path.join('/tmp', 'glance-recovery-refs-%d.conf' % os.getpid())
        self.addCleanup(lambda: os.path.exists(ref_file) and os.unlink(ref_file))
        options = services.swift_store(self.container, ref_file)
        options['swift_store_large_object_chunk_size'] = '1'
        return options

    def partial_data(self, image_id):
        conn = swiftclient.Connection(
            authurl=keystone.keystone()['auth_url'], user='glance',
            key=services.GLANCE_SWIFT_PASSWORD, auth_version='3',
            os_options={'project_name': 'service', 'user_domain_id': 'default',
                        'project_domain_id': 'default'})
        try:
            return [o['name'] for o in conn.get_container(self.container,
                                                          prefix=image_id)[1]]
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                return []
            raise


class TestS3Recovery(_RecoveryTest, base.FunctionalTest):
    store_kind = 's3'
    # 16 MiB announced, 11 sent: glance_store's multipart upload has two 5 MiB parts
    upload_shape = {'sent': 11 * MiB, 'total': 16 * MiB}

    def store_options(self):
        self.env = services.skip_unless(services.s3)
        options = services.s3_store(self.env)
        options.update(s3_store_large_object_size='5', s3_store_large_object_chunk_size='5')
        self.bucket = options['s3_store_bucket']
        return options

    def partial_data(self, image_id):
        s3 = boto3.client('s3', endpoint_url=self.env['S3_ENDPOINT'],
                          aws_access_key_id=self.env['S3_ACCESS_KEY'],
                          aws_secret_access_key=self.env['S3_SECRET_KEY'],
                          region_name=self.env.get('S3_REGION', 'us-east-1'))
        uploads = [u['UploadId'] for u in s3.list_multipart_uploads(
            Bucket=self.bucket, Prefix=image_id).get('Uploads', []) if u['Key'] == image_id]
        objects = s3.list_objects_v2(Bucket=self.bucket, Prefix=image_id).get('Contents', [])
        return uploads + [o['Key'] for o in objects]
