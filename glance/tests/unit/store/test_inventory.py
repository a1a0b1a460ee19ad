"""The file store's inventory: only image ids are listed, sizes and ages are the files',
and what a dead upload left is found and removed without touching anything else."""

import datetime
import os
import uuid

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.store import backend
from glance.store import inventory

CONF = cfg.CONF


class TestFileInventory(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        backend.register_opts()
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(enabled_backends={'local': 'file'})
        backend.register_opts()
        conf.config(filesystem_store_datadir=self.dir, group='local')
        self.store = inventory.FileStore('local')

    def _write(self, name, data=b'data', age=0):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(data)
        if age:
            stamp = datetime.datetime.now().timestamp() - age
            os.utime(path, (stamp, stamp))
        return path

    def test_lists_image_ids_only(self):
        image_id = str(uuid.uuid4())
        self._write(image_id, b'12345', age=7200)
        self._write('README')
        self._write(image_id + '.tmp')
        os.mkdir(os.path.join(self.dir, str(uuid.uuid4())))
        listed = list(self.store.list())
        self.assertEqual([(image_id, 5)], [(o.image_id, o.size) for o in listed])
        age = datetime.datetime.utcnow() - listed[0].modified
        self.assertTrue(datetime.timedelta(seconds=7100) < age
                        < datetime.timedelta(seconds=7300), age)

    def test_size_of_and_missing(self):
        image_id = str(uuid.uuid4())
        path = self._write(image_id, b'x' * 10)
        location = {'url': 'file://' + path, 'metadata': {'store': 'local'}}
        self.assertEqual(10, self.store.size_of(location))
        os.unlink(path)
        self.assertIsNone(self.store.size_of(location))

    def test_clean_partial_removes_that_image_only(self):
        dead, other = str(uuid.uuid4()), str(uuid.uuid4())
        self._write(dead)
        self._write(other)
        removed = self.store.clean_partial(dead)
        self.assertEqual(['object %s/%s' % (self.dir, dead)], removed)
        self.assertEqual([other], sorted(os.listdir(self.dir)))
        self.assertEqual([], self.store.clean_partial(dead))  # nothing left: no error

    def test_object_name_of_locations(self):
        self.assertEqual('abc', inventory.object_name(
            {'url': 's3://ak:s/k@host/bucket/abc'}))
        self.assertEqual('abc', inventory.object_name(
            {'url': 'swift+https://u:k@keystone/v3/container/abc?x=1'}))
