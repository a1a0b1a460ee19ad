"""glance-download between two instances of this project (two regions).

Region "here" imports an image of region "there": the remote Images API is found in the
caller's service catalog (in the noauth flavor the trusted caller sends it as
X-Service-Catalog, as keystonemiddleware would from a token), the remote image's formats
and chosen properties are copied, its data comes through the remote glance-api's redirect
to its glance-stream, and the local image is inspected, hashed and verified as any other.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from glance.tests.functional import base as functional_base
from glance.tests.functional.image_import import base

MiB = 1024 * 1024


class TestGlanceDownload(base.ImportTest):

    server_kwargs = {'stream': False, 'api_conf': {'DEFAULT': {
        'enabled_import_methods': 'glance-direct,web-download,copy-image,glance-download'}}}

    def setUp(self):
        super().setUp()
        self.there = self.useFixture(functional_base.ServerFixture())

    def catalog(self, region='there', url=None):
        return json.dumps([{'type': 'image', 'name': 'glance', 'endpoints': [
            {'region_id': region, 'region': region, 'interface': 'public',
             'url': url or self.there.api_url}]}])

    def remote_image(self, data, **extra):
        body = dict({'disk_format': 'qcow2', 'container_format': 'bare', 'name': 'far'},
                    **extra)
        resp = self.session.post(self.there.api_url + '/v2/images', json=body,
                                 headers=self.headers())
        image = resp.json()
        resp = self.session.put(self.there.api_url + '/v2/images/%s/file' % image['id'],
                                data=data, headers=self.headers(
                                    **{'Content-Type': 'application/octet-stream'}))
        self.assertEqual(204, resp.status_code, resp.text)
        return image

    def download_import(self, local_id, remote_id, expect=202, catalog=None, **method):
        method = dict({'name': 'glance-download', 'glance_image_id': remote_id,
                       'glance_region': 'there'}, **method)
        resp = self.session.post(
            self.servers.api_url + '/v2/images/%s/import' % local_id,
            json={'method': method},
            headers=self.headers(**{'X-Service-Catalog': catalog or self.catalog()}))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def test_an_image_of_another_region_is_imported_with_its_properties(self):
        qcow2 = self._qcow2()
        remote = self.remote_image(qcow2, os_distro='debian', hw_disk_bus='scsi',
                                   secret_note='stays there')
        local = self.create(disk_format='raw')
        self.download_import(local['id'], remote['id'])
        task = self.wait_task(local['id'])
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(local['id'])
        self.assertEqual(('active', 'qcow2', 'debian', 'scsi'),
                         (shown['status'], shown['disk_format'], shown['os_distro'],
                          shown['hw_disk_bus']))
        self.assertNotIn('secret_note', shown)
        self.assertEqual(hashlib.sha512(qcow2).hexdigest(), shown['os_hash_value'])
        self.assertEqual(16 * MiB, shown['virtual_size'])

    def test_bad_requests_and_remote_failures(self):
        local = self.create()
        self.download_import(local['id'], 'x', catalog=self.catalog(region='elsewhere'),
                             expect=400)
        self.download_import(local['id'], 'x', glance_region='', expect=400)
        self.download_import(local['id'], 'x', glance_service_interface='secret', expect=400)
        resp = self.session.post(
            self.servers.api_url + '/v2/images/%s/import' % local['id'],
            json={'method': {'name': 'glance-download', 'glance_image_id': 'x',
                             'glance_region': 'there'}},
            headers=self.headers(**{'X-Service-Catalog': '{not json'}))
        self.assertEqual(400, resp.status_code)

        self.download_import(local['id'], '00000000-0000-0000-0000-000000000000')
        task = self.wait_task(local['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('no image', task['message'])
        shown = self.show(local['id'])
        self.assertEqual(('queued', 'raw'), (shown['status'], shown['disk_format']))

        queued = self.session.post(self.there.api_url + '/v2/images', json={
            'disk_format': 'raw', 'container_format': 'bare'}, headers=self.headers()).json()
        self.download_import(local['id'], queued['id'])
        self.wait_task(local['id'], count=2)
        messages = [t['message'] for t in self.image_tasks(local['id'])]
        self.assertEqual(1, len([m for m in messages if 'not active' in m]), messages)

    def _qcow2(self):
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed (tools/ensure-packages.sh installs it)')
        tmp = tempfile.mkdtemp(prefix='glance-download-')
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', 'disk.qcow2', '16M'],
                       check=True, capture_output=True, cwd=tmp)
        with open(os.path.join(tmp, 'disk.qcow2'), 'rb') as f:
            return f.read()
