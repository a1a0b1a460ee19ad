"""Uploaded data is inspected: its format, its virtual size, and nothing unsafe gets in.

Images made with the real qemu-img, uploaded through a real glance-api: raw, qcow2 and
vmdk become active with the right virtual_size; a qcow2 naming a backing file (declared
qcow2 or raw), a vmdk whose descriptor points at another file and a qcow2 declared raw are
refused with 400, the image stays queued and nothing stays in the store.
"""

import os
import shutil
import subprocess
import tempfile

from glance.tests.functional.data import test_data_path

MiB = 1024 * 1024


class TestFormatInspection(test_data_path.DataTest):

    server_kwargs = {'stream': False}

    def setUp(self):
        super().setUp()
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed (tools/ensure-packages.sh installs it)')
        self.tmp = tempfile.mkdtemp(prefix='glance-inspect-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def qemu_img(self, *args):
        subprocess.run(['qemu-img'] + list(args), check=True, capture_output=True, cwd=self.tmp)

    def read(self, name):
        with open(os.path.join(self.tmp, name), 'rb') as f:
            return f.read()

    def stored(self, image_id):
        return os.path.exists(os.path.join(self.servers.store_dir, image_id))

    def upload_as(self, disk_format, data, expect):
        image = self.create(disk_format=disk_format)
        resp = self.upload(image['id'], data, expect=expect)
        return self.show(image['id']), resp

    def test_raw_qcow2_vmdk_get_their_virtual_size(self):
        raw = os.urandom(3 * MiB)
        shown, _ = self.upload_as('raw', raw, 204)
        self.assertEqual(('active', len(raw)), (shown['status'], shown['virtual_size']))

        self.qemu_img('create', '-f', 'qcow2', 'disk.qcow2', '64M')
        shown, _ = self.upload_as('qcow2', self.read('disk.qcow2'), 204)
        self.assertEqual(('active', 64 * MiB), (shown['status'], shown['virtual_size']))

        self.qemu_img('create', '-f', 'vmdk', '-o', 'subformat=streamOptimized', 'disk.vmdk',
                      '32M')
        shown, _ = self.upload_as('vmdk', self.read('disk.vmdk'), 204)
        self.assertEqual(('active', 32 * MiB), (shown['status'], shown['virtual_size']))

    def test_qcow2_with_a_backing_file_is_refused_declared_qcow2_or_raw(self):
        self.qemu_img('create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', 'bad.qcow2',
                      '1M')
        for disk_format in ('qcow2', 'raw'):
            shown, resp = self.upload_as(disk_format, self.read('bad.qcow2'), 400)
            self.assertEqual('queued', shown['status'])
            self.assertIsNone(shown['virtual_size'])
            self.assertFalse(self.stored(shown['id']))
            if disk_format == 'qcow2':
                self.assertIn('backing', resp.text.lower())

    def test_vmdk_with_a_descriptor_naming_another_file_is_refused(self):
        self.qemu_img('create', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', 'flat.vmdk',
                      '1M')
        shown, resp = self.upload_as('vmdk', self.read('flat.vmdk'), 400)
        self.assertEqual('queued', shown['status'])
        self.assertIn('safety', resp.text)
        self.assertFalse(self.stored(shown['id']))

    def test_qcow2_declared_raw_is_refused(self):
        self.qemu_img('create', '-f', 'qcow2', 'disk.qcow2', '8M')
        shown, resp = self.upload_as('raw', self.read('disk.qcow2'), 400)
        self.assertIn('the content is qcow2, not raw', resp.text)
        self.assertEqual('queued', shown['status'])
        # the same bytes, declared for what they are, are welcome
        image_id = shown['id']
        resp = self.session.patch(
            self.servers.api_url + '/v2/images/%s' % image_id,
            json=[{'op': 'replace', 'path': '/disk_format', 'value': 'qcow2'}],
            headers=self.headers(**{'Content-Type':
                                    'application/openstack-images-v2.1-json-patch'}))
        self.assertEqual(200, resp.status_code, resp.text)
        self.upload(image_id, self.read('disk.qcow2'))
        self.assertEqual('active', self.show(image_id)['status'])


class TestFormatMatchNotRequired(test_data_path.DataTest):

    server_kwargs = {'stream': False,
                     'api_conf': {'image_format': {'require_image_format_match': 'false'}}}

    def test_mismatch_accepted_but_safety_checks_still_run(self):
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed')
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', 'ok.qcow2', '8M'], cwd=tmp,
                       check=True, capture_output=True)
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw',
                        'bad.qcow2', '1M'], cwd=tmp, check=True, capture_output=True)
        with open(os.path.join(tmp, 'ok.qcow2'), 'rb') as f:
            image = self.create(disk_format='raw')
            self.upload(image['id'], f.read())
        self.assertEqual(8 * MiB, self.show(image['id'])['virtual_size'])
        with open(os.path.join(tmp, 'bad.qcow2'), 'rb') as f:
            image = self.create(disk_format='raw')
            self.upload(image['id'], f.read(), expect=400)
