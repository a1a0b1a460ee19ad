"""Import plugins on a real glance-api: decompression, conversion with the real qemu-img,
and metadata injection; each changes the data or the image before it is stored, and the
result is inspected, hashed and verified like any other image."""

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import zipfile

from glance.tests.functional.image_import import base

MiB = 1024 * 1024
ADMIN = 'admin,member,reader'


class TestImportPlugins(base.ImportTest):

    server_kwargs = {'stream': False, 'api_conf': {
        'image_import_opts': {'image_import_plugins':
                              'inject_image_metadata,image_conversion,image_decompression'},
        'image_conversion': {'output_format': 'raw'},
        'inject_metadata_properties': {'inject': 'imported_by:glance,team:images',
                                       'ignore_user_roles': 'admin'}}}

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='glance-plugins-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def imported(self, data, roles='member,reader', **body):
        image = self.create(**body)
        self.stage(image['id'], data)
        self.import_(image['id'], roles=roles)
        return self.wait_task(image['id']), self.show(image['id'])

    def test_qcow2_is_converted_to_raw_and_metadata_injected(self):
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed (tools/ensure-packages.sh installs it)')
        raw = os.path.join(self.tmp, 'disk.raw')
        with open(raw, 'wb') as f:
            f.write(os.urandom(MiB) + b'\0' * (3 * MiB))
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, 'disk.qcow2'],
                       check=True, cwd=self.tmp, capture_output=True)
        with open(os.path.join(self.tmp, 'disk.qcow2'), 'rb') as f:
            qcow2 = f.read()
        task, shown = self.imported(qcow2, disk_format='qcow2')
        self.assertEqual('success', task['status'], task['message'])
        with open(raw, 'rb') as f:
            expected = f.read()
        self.assertEqual(('active', 'raw', 4 * MiB, 4 * MiB),
                         (shown['status'], shown['disk_format'], shown['size'],
                          shown['virtual_size']))
        self.assertEqual(hashlib.sha512(expected).hexdigest(), shown['os_hash_value'])
        self.assertEqual(('glance', 'images'), (shown['imported_by'], shown['team']))

    def test_gzip_and_zip_are_decompressed_unless_the_container_says_compressed(self):
        data = os.urandom(2 * MiB)
        task, shown = self.imported(gzip.compress(data))
        self.assertEqual('success', task['status'], task['message'])
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])

        archive = io.BytesIO()
        with zipfile.ZipFile(archive, 'w') as z:
            z.writestr('disk.raw', data)
        task, shown = self.imported(archive.getvalue())
        self.assertEqual(hashlib.md5(data).hexdigest(), shown['checksum'])

        packed = gzip.compress(data)
        task, shown = self.imported(packed, container_format='compressed')
        self.assertEqual(hashlib.md5(packed).hexdigest(), shown['checksum'])

    def test_broken_archive_fails_the_import_and_admins_get_no_injection(self):
        task, shown = self.imported(gzip.compress(os.urandom(MiB))[:-64])
        self.assertEqual('failure', task['status'])
        self.assertIn('cannot be decompressed', task['message'])
        self.assertEqual(('queued', 'raw'), (shown['status'], shown['disk_format']))
        self.assertFalse(self.staged(shown['id']))

        task, shown = self.imported(os.urandom(MiB), roles=ADMIN)
        self.assertEqual('success', task['status'], task['message'])
        self.assertNotIn('imported_by', shown)
