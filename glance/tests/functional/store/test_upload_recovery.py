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
    orphan_grace = 0

    def setUp(self):
        url, drop = engines.database_url(self.engine)
        self.addCleanup(drop)
        self.server_kwargs = {
            'stream': False, 'connection': url,
            'common_conf': {'DEFAULT': {'enabled_backends': 'local:file,objects:%s'
                                        % self.store_kind},
                            'glance_store': {'default_backend': 'local'},
                            'objects': self.store_options()},
            'api_conf': {'DEFAULT': {'housekeeping_interval': 1,
                                     'audit_orphan_grace': self.orphan_grace}}}
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


class _AuditInStore:
    """glance-manage audit and --repair in a real object store.

    An object deleted behind glance's back, an orphan planted; repaired; a second audit is
    clean. No credential of the store in anything glance-manage prints
    (ServerFixture.manage scans it).
    """

    def test_audit_finds_and_repairs_drift_in_the_store(self):
        import json
        good, lost = self.create(), self.create()
        for image_id in (good, lost):
            resp = requests.put(self.servers.api_url + '/v2/images/%s/file' % image_id,
                                data=os.urandom(MiB + 7), headers=dict(HEADERS, **{
                                    'Content-Type': 'application/octet-stream',
                                    'X-Image-Meta-Store': 'objects'}))
            self.assertEqual(204, resp.status_code, resp.text)
        self.delete_object(lost)
        orphan = '%s' % __import__('uuid').uuid4()
        self.put_object(orphan, b'planted behind glance')

        def audit(*args, expect):
            result = self.servers.manage('audit', '--store', 'objects', '--format', 'json',
                                         *args, check=False)
            if expect is not None:
                self.assertEqual(expect, result.returncode, result.stdout + result.stderr)
            return json.loads(result.stdout)

        found = audit(expect=1)
        ours = {lost, good, orphan}
        self.assertEqual(sorted([('missing', lost), ('orphan', orphan)]),
                         sorted((f['class'], f['image_id']) for f in found['findings']
                                if f['image_id'] in ours))
        repaired = audit('--repair', '--yes', expect=1)
        self.assertEqual(sorted([(lost, 'mark image killed'),
                                 (orphan, self.orphan_action % orphan)]),
                         sorted((r['image_id'], r['action']) for r in repaired['repairs']
                                if r['image_id'] in ours))
        self.assertEqual('killed', self.status(lost))
        self.assertEqual('active', self.status(good))
        self.assertEqual(self.orphan_left, bool(self.partial_data(orphan)))
        if self.orphan_left:
            self.delete_object(orphan)
        again = audit(expect=None)
        self.assertEqual([], [f for f in again['findings'] if f['image_id'] in ours])
        # no stream node runs here: only the caches are left unchecked
        self.assertEqual(['cache list unavailable'], [e['reason'] for e in again['errors']])


class TestSwiftAudit(_AuditInStore, TestSwiftRecovery):
    # this test's own container: the planted orphan goes at once (audit_orphan_grace 0)
    orphan_action = 'delete object %s from store objects'
    orphan_left = False

    def setUp(self):
        super().setUp()
        self.conn = swiftclient.Connection(
            authurl=keystone.keystone()['auth_url'], user='glance',
            key=services.GLANCE_SWIFT_PASSWORD, auth_version='3',
            os_options={'project_name': 'service', 'user_domain_id': 'default',
                        'project_domain_id': 'default'})

    def delete_object(self, name):
        self.conn.delete_object(self.container, name)

    def put_object(self, name, data):
        self.conn.put_object(self.container, name, data)

    test_killed_upload_is_cleaned_in_its_own_store = None  # TestSwiftRecovery runs it


class TestS3Audit(_AuditInStore, TestS3Recovery):
    # The bucket is shared by every test run on this machine (their objects are orphans to
    # this test's database) and S3 cannot backdate an object: a grace of ten years keeps
    # the planted orphan and every other run's objects alike.
    orphan_action = 'keep (younger than audit_orphan_grace)%.0s'
    orphan_left = True
    orphan_grace = 10 * 365 * 86400

    def setUp(self):
        super().setUp()
        self.s3 = boto3.client('s3', endpoint_url=self.env['S3_ENDPOINT'],
                               aws_access_key_id=self.env['S3_ACCESS_KEY'],
                               aws_secret_access_key=self.env['S3_SECRET_KEY'],
                               region_name=self.env.get('S3_REGION', 'us-east-1'))

    def delete_object(self, name):
        self.s3.delete_object(Bucket=self.bucket, Key=name)

    def put_object(self, name, data):
        self.s3.put_object(Bucket=self.bucket, Key=name, Body=data)

    test_killed_upload_is_cleaned_in_its_own_store = None  # TestS3Recovery runs it
