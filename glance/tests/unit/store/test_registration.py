"""Which registered URLs name an object in the place a store keeps images (no servers)."""

import os
import shutil
import tempfile
import types

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.store import backend
from glance.store import registration

CONF = cfg.CONF


class TestFileLocations(testtools.TestCase):

    def setUp(self):
        super().setUp()
        backend.register_opts()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(enabled_backends={'local': 'file'})
        self.root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.root, True)
        self.store = os.path.join(self.root, 'store')
        self.other = os.path.join(self.root, 'store2')
        os.makedirs(self.store)
        os.makedirs(self.other)
        self.conf.config(group='local', filesystem_store_datadir=self.store)
        self.inside = self.write(self.store, 'obj')
        self.outside = self.write(self.root, 'secret')

    def write(self, directory, name):
        path = os.path.join(directory, name)
        with open(path, 'wb') as f:
            f.write(b'data')
        return path

    def refused(self, url, phrase):
        error = self.assertRaises(registration.LocationRefused, registration._check_file,
                                  url, 'local')
        self.assertIn(phrase, str(error))

    def test_a_file_inside_is_given_by_its_real_path(self):
        self.assertEqual('file://' + self.inside,
                         registration._check_file('file://' + self.inside, 'local'))
        self.assertEqual('file://' + self.inside, registration._check_file(
            'file://%s/sub/../obj' % self.store, 'local'))
        link = os.path.join(self.store, 'alias')
        os.symlink(self.inside, link)
        self.assertEqual('file://' + self.inside,
                         registration._check_file('file://' + link, 'local'))

    def test_anything_else_is_refused(self):
        self.refused('file://' + self.outside, 'not inside the directory of store local')
        self.refused('file://%s/../secret' % self.store, 'not inside')
        self.refused('file://%s2/x' % self.store, 'not inside')  # a sibling sharing a prefix
        self.refused('file://' + self.store, 'not inside')
        os.symlink(self.outside, os.path.join(self.store, 'escape'))
        self.refused('file://%s/escape' % self.store, 'not inside')
        self.refused('file://%s/missing' % self.store, 'there is no file')
        os.makedirs(os.path.join(self.store, 'dir'))
        self.refused('file://%s/dir' % self.store, 'there is no file')
        self.refused('file://%s?x=1' % self.inside, 'nothing more')
        self.refused('file://relative/path', 'nothing more')

    def test_every_directory_of_a_store_with_several(self):
        self.conf.config(group='local', filesystem_store_datadirs=[self.other + ':100'])
        inside_other = self.write(self.other, 'obj')
        self.assertEqual('file://' + inside_other,
                         registration._check_file('file://' + inside_other, 'local'))


class TestObjectStoreLocations(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(enabled_backends={'objects': 'swift', 'bucket': 's3',
                                           'ceph': 'rbd'})
        backend.register_opts()  # the sections of these backends
        self.conf.config(group='objects', swift_store_container='glance',
                         default_swift_reference='ref1')
        self.conf.config(group='bucket', s3_store_host='http://s3.example.org:8333',
                         s3_store_bucket='glance')
        self.conf.config(group='ceph', rbd_store_pool='images')

    def test_swift(self):
        check = registration._check_swift
        check('swift+config://ref1/glance/o', 'objects',
              types.SimpleNamespace(container='glance'))
        self.assertRaises(registration.LocationRefused, check, 'swift+config://ref1/other/o',
                          'objects', types.SimpleNamespace(container='other'))
        self.assertRaises(registration.LocationRefused, check, 'swift+config://ref2/glance/o',
                          'objects', types.SimpleNamespace(container='glance'))
        self.conf.config(group='objects', swift_store_multiple_containers_seed=2)
        check('swift+config://ref1/glance_ab/o', 'objects',
              types.SimpleNamespace(container='glance_ab'))
        self.conf.config(group='objects', swift_store_multi_tenant=True)
        error = self.assertRaises(registration.LocationRefused, check,
                                  'swift+config://ref1/glance/o', 'objects',
                                  types.SimpleNamespace(container='glance'))
        self.assertIn('multi-tenant', str(error))

    def test_s3(self):
        check = registration._check_s3
        check('bucket', types.SimpleNamespace(s3serviceurl='s3.example.org:8333',
                                              bucket='glance'))
        for host, bucket, phrase in (('s3.example.org:8333', 'other', 'bucket'),
                                     ('169.254.169.254', 'glance', 'host'),
                                     ('s3.example.org', 'glance', 'host')):
            error = self.assertRaises(registration.LocationRefused, check, 'bucket',
                                      types.SimpleNamespace(s3serviceurl=host, bucket=bucket))
            self.assertIn(phrase, str(error))

    def test_rbd(self):
        registration._check_rbd('ceph', types.SimpleNamespace(pool='images'))
        self.assertRaises(registration.LocationRefused, registration._check_rbd, 'ceph',
                          types.SimpleNamespace(pool='volumes'))

    def test_which_stores_take_a_scheme(self):
        self.assertEqual(['objects'], registration._stores_taking('swift+config'))
        self.assertEqual(['bucket'], registration._stores_taking('s3+https'))
        self.assertEqual([], registration._stores_taking('swift+https'))  # no credentials
        self.assertEqual([], registration._stores_taking('file'))
