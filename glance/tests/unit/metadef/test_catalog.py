"""glance/metadef/catalog.py: the shipped catalog loads, exports and re-loads byte for byte,
on SQLite, PostgreSQL and MariaDB; bad files load nothing."""

import json
import os
import shutil
import tempfile

from oslo_config import cfg
from oslo_config import fixture as config_fixture

from glance.common import exception
from glance.db import metadefs as db
from glance.metadef import catalog
from glance.tests.unit.db import base

SHIPPED = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                                       'etc', 'metadefs'))


def _read_dir(path):
    """{namespace: file bytes} of a directory of namespace files."""
    result = {}
    for name in os.listdir(path):
        with open(os.path.join(path, name), 'rb') as f:
            content = f.read()
        result[json.loads(content)['namespace']] = content
    return result


@base.on_every_engine
class TestCatalog(base.DbTestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(cfg.CONF))
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_shipped_catalog_round_trips_byte_for_byte(self):
        self.assertEqual({'OS::Compute::Hypervisor', 'OS::Compute::CPUPinning',
                          'OS::Compute::Watchdog'}, set(_read_dir(SHIPPED)))
        result = catalog.load(SHIPPED)
        self.assertEqual(3, len(result['created']))
        first = os.path.join(self.tmp, 'first')
        self.assertEqual(3, len(catalog.export(first)))
        self.assertEqual(_read_dir(SHIPPED), _read_dir(first))
        # and once more through an emptied database
        catalog.unload()
        self.assertTrue(db.catalog_is_empty())
        catalog.load(first)
        second = os.path.join(self.tmp, 'second')
        catalog.export(second)
        self.assertEqual(_read_dir(SHIPPED), _read_dir(second))

    def test_upstream_style_file_loads_unchanged(self):
        # upstream's layout: owner-less, "objects" with empty "required", unicode text
        document = {
            'namespace': 'OS::Upstream::Style', 'display_name': 'Upstream style',
            'description': 'Quota \u2013 with a dash', 'visibility': 'public',
            'protected': True,
            'resource_type_associations': [{'name': 'OS::Nova::Flavor', 'prefix': 'quota:'}],
            'properties': {'cpu_shares': {'title': 'Quota: CPU Shares', 'type': 'integer',
                                          'description': 'Weight'}},
            'objects': [{'name': 'CPU Limits', 'description': 'd', 'required': [],
                         'properties': {'cpu_period': {'title': 'Period', 'type': 'integer',
                                                       'minimum': 1000, 'maximum': 1000000}}}],
            'tags': [{'name': 'quota'}],
        }
        source = os.path.join(self.tmp, 'src')
        os.makedirs(source)
        with open(os.path.join(source, 'quota.json'), 'w', encoding='utf-8') as f:
            f.write(catalog.dumps(document))
        catalog.load(source)
        out = os.path.join(self.tmp, 'out')
        catalog.export(out)
        self.assertEqual(_read_dir(source), _read_dir(out))

    def test_a_bad_file_loads_nothing(self):
        source = os.path.join(self.tmp, 'bad')
        shutil.copytree(SHIPPED, source)
        with open(os.path.join(source, 'zz-bad.json'), 'w') as f:
            json.dump({'namespace': 'x' * 81}, f)
        error = self.assertRaises(exception.BadRequest, catalog.load, source)
        self.assertIn('zz-bad.json', str(error))
        self.assertIn('too long', str(error))
        with open(os.path.join(source, 'zz-bad.json'), 'w') as f:
            f.write('{not json')
        self.assertRaises(exception.BadRequest, catalog.load, source)
        self.assertTrue(db.catalog_is_empty())
        self.assertRaises(exception.BadRequest, catalog.load, os.path.join(self.tmp, 'none'))

    def test_loaded_on_a_new_database_only(self):
        self.conf.config(metadata_source_path=SHIPPED)
        self.assertEqual([], catalog.load_if_new(False))
        self.assertEqual(3, len(catalog.load_if_new(True)))
        catalog.unload()
        db.catalog_import({'namespace': 'mine'})
        self.assertEqual([], catalog.load_if_new(True))  # never over an operator's catalog
