"""The file store writer with parallel hashing: same file, location and hashes as
glance_store's own add(), and nothing left behind on failure."""

import hashlib
import io
import os

import fixtures
from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.store import backend

CONF = cfg.CONF


class TestFastFileAdd(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        backend.register_opts()
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(enabled_backends={'local': 'file'})
        backend.register_opts()
        conf.config(filesystem_store_datadir=self.dir, group='local')

    def test_same_result_as_the_store(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        url, size, checksum, multihash, metadata = backend.fast_file_add(
            'img-1', io.BytesIO(data).read, len(data), 'local', 'sha512')
        path = os.path.join(self.dir, 'img-1')
        self.assertEqual('file://' + path, url)
        self.assertEqual(len(data), size)
        self.assertEqual(hashlib.md5(data).hexdigest(), checksum)
        self.assertEqual(hashlib.sha512(data).hexdigest(), multihash)
        self.assertEqual({'store': 'local'}, metadata)
        with open(path, 'rb') as f:
            self.assertEqual(data, f.read())

    def test_existing_data_is_a_duplicate_and_is_kept(self):
        path = os.path.join(self.dir, 'img-2')
        with open(path, 'wb') as f:
            f.write(b'keep me')
        self.assertRaises(store_exc.Duplicate, backend.fast_file_add, 'img-2',
                          io.BytesIO(b'x').read, 1, 'local', 'sha512')
        with open(path, 'rb') as f:
            self.assertEqual(b'keep me', f.read())

    def test_failures_leave_nothing(self):
        self.assertRaises(store_exc.Invalid, backend.fast_file_add, 'img-3',
                          io.BytesIO(b'x' * 100).read, 10, 'local', 'sha512')

        def broken(n):
            raise ValueError('client went away')
        self.assertRaises(ValueError, backend.fast_file_add, 'img-4', broken, 0, 'local',
                          'sha512')
        self.assertEqual([], os.listdir(self.dir))
