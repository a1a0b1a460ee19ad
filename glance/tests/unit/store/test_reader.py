"""Piece-verified reads of a local file: the same verified bytes whether each piece gets a
fresh buffer or the fill's few reused ones, and a bad piece stops the read either way."""

import hashlib
import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.common import exception
from glance.common import pieces
from glance.store import backend
from glance.store import reader

CONF = cfg.CONF
PIECE = 1024 * 1024


class TestPieceReads(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(enabled_backends={'local': 'file'})
        backend.register_opts()
        conf.config(verify_threads=2, group='stream')
        self.data = os.urandom(7 * PIECE + 12345)
        self.path = os.path.join(self.dir, 'img')
        with open(self.path, 'wb') as f:
            f.write(self.data)

    def _image(self):
        hasher = pieces.PieceHasher('sha256', PIECE)
        hasher.update(self.data)
        return {'id': 'img', 'size': len(self.data), 'piece_map': hasher.finish(),
                'os_hash_value': hashlib.sha512(self.data).hexdigest(),
                'os_hash_algo': 'sha512',
                'locations': [{'url': 'file://' + self.path,
                               'metadata': {'store': 'local'}}]}

    def test_reused_buffers_give_the_same_bytes(self):
        buffers = set()
        out = []
        for chunk in reader.open_verified(self._image(), reuse_buffers=True):
            self.assertIsInstance(chunk, memoryview)
            buffers.add(id(chunk.obj))
            out.append(bytes(chunk))  # the consumer is done with it before the next
        self.assertTrue(self.data == b''.join(out), 'the bytes differ')
        # 8 pieces through verify_threads + 1 buffers
        self.assertLessEqual(len(buffers), CONF.stream.verify_threads + 1)
        fresh = b''.join(reader.open_verified(self._image()))
        self.assertTrue(self.data == fresh, 'the bytes differ without reuse')

    def test_a_corrupt_piece_stops_the_read_at_that_piece(self):
        with open(self.path, 'r+b') as f:
            f.seek(5 * PIECE + 7)
            f.write(b'\0' if self.data[5 * PIECE + 7] else b'\1')
        for reuse in (True, False):
            got = []
            chunks = reader.open_verified(self._image(), reuse_buffers=reuse)
            with testtools.ExpectedException(exception.ImageDataCorrupt):
                for chunk in chunks:
                    got.append(bytes(chunk))
            self.assertEqual(5, len(got))
            self.assertTrue(self.data[:5 * PIECE] == b''.join(got))
