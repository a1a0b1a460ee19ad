"""glance/db/metadefs.py on SQLite, PostgreSQL and MariaDB: the same answers everywhere."""

from glance.common import exception
from glance.db import metadefs as db
from glance.tests.unit.db import base

_PROP = {'title': 'CPU Policy', 'type': 'string', 'enum': ['shared', 'dedicated']}


def _namespace(name, owner='p1', visibility='private', **content):
    return db.namespace_create({'namespace': name, 'owner': owner, 'visibility': visibility,
                                'protected': False}, content)


@base.on_every_engine
class TestNamespaces(base.DbTestCase):

    def test_create_with_content_in_one_go(self):
        ns = _namespace('OS::Test', properties={'b_prop': _PROP, 'a_prop': {'title': 'A',
                                                                            'type': 'integer'}},
                        objects=[{'name': 'obj', 'required': ['x'],
                                  'properties': {'x': {'title': 'X', 'type': 'string'}}}],
                        tags=[{'name': 't2'}, {'name': 't1'}],
                        resource_type_associations=[{'name': 'OS::Glance::Image',
                                                     'prefix': 'hw_'}])
        self.assertEqual('OS::Test', ns['namespace'])
        detail = db.namespace_get_detail('OS::Test')
        # insertion order is kept (what export writes back)
        self.assertEqual(['b_prop', 'a_prop'], [p['name'] for p in detail['properties']])
        self.assertEqual(['enum', 'title', 'type'], sorted(detail['properties'][0]['schema']))
        self.assertEqual(list(_PROP), list(detail['properties'][0]['schema']))
        self.assertEqual(['t2', 't1'], [t['name'] for t in detail['tags']])
        self.assertEqual(['x'], detail['objects'][0]['required'])
        self.assertEqual([('OS::Glance::Image', 'hw_', None)],
                         [(a['name'], a['prefix'], a['properties_target'])
                          for a in detail['resource_type_associations']])
        self.assertEqual(['OS::Glance::Image'],
                         [r['name'] for r in db.resource_type_get_all()])

    def test_duplicate_namespace_is_a_conflict_and_leaves_nothing_behind(self):
        _namespace('dup')
        self.assertRaises(exception.Duplicate, _namespace, 'dup')
        # a duplicate inside the content rolls the whole create back
        self.assertRaises(exception.Duplicate, _namespace, 'half',
                          tags=[{'name': 'same'}, {'name': 'same'}])
        self.assertRaises(exception.MetadefNamespaceNotFound, db.namespace_get, 'half')

    def test_names_are_case_sensitive_on_every_engine(self):
        # MariaDB's default collation would make these one name (and "ns" find "NS")
        _namespace('OS::Case')
        _namespace('os::case')
        self.assertEqual('OS::Case', db.namespace_get('OS::Case')['namespace'])
        self.assertRaises(exception.MetadefNamespaceNotFound, db.namespace_get, 'Os::Case')
        db.tag_create('OS::Case', 'Tag')
        db.tag_create('OS::Case', 'tag')
        self.assertRaises(exception.MetadefTagNotFound, db.tag_get, 'OS::Case', 'TAG')
        db.association_create('OS::Case', {'name': 'OS::Glance::Image'})
        db.association_create('OS::Case', {'name': 'os::glance::image'})
        self.assertEqual(2, len(db.resource_type_get_all()))

    def test_list_visibility(self):
        _namespace('mine', owner='p1')
        _namespace('theirs', owner='p2')
        _namespace('public', owner='p2', visibility='public')

        def names(**kw):
            return sorted(n['namespace'] for n in db.namespace_get_all(**kw))
        self.assertEqual(['mine', 'public'], names(project_id='p1'))
        self.assertEqual(['mine', 'public', 'theirs'], names(project_id='p1', is_admin=True))
        self.assertEqual(['public'], names(project_id='p1', visibility='public'))
        self.assertEqual(['mine'], names(project_id='p1', visibility='private'))

    def test_list_by_resource_type(self):
        _namespace('img', resource_type_associations=[{'name': 'OS::Glance::Image'}])
        _namespace('flv', resource_type_associations=[{'name': 'OS::Nova::Flavor'}])
        _namespace('none')
        found = db.namespace_get_all(project_id='p1', resource_types=['OS::Nova::Flavor'])
        self.assertEqual(['flv'], [n['namespace'] for n in found])
        self.assertEqual('OS::Nova::Flavor', found[0]['resource_type_associations'][0]['name'])

    def test_pagination_and_sorting(self):
        for name in ('c', 'a', 'd', 'b', 'e'):
            _namespace(name)
        page = db.namespace_get_all(project_id='p1', sort_key='namespace', sort_dir='asc',
                                    limit=2)
        self.assertEqual(['a', 'b'], [n['namespace'] for n in page])
        page = db.namespace_get_all(project_id='p1', sort_key='namespace', sort_dir='asc',
                                    limit=2, marker='b')
        self.assertEqual(['c', 'd'], [n['namespace'] for n in page])
        page = db.namespace_get_all(project_id='p1', sort_key='namespace', sort_dir='desc',
                                    marker='b')
        self.assertEqual(['a'], [n['namespace'] for n in page])
        # created_at ties (same second) are broken by name: pages never overlap
        seen = []
        marker = None
        for _ in range(5):
            page = db.namespace_get_all(project_id='p1', limit=2, marker=marker)
            if not page:
                break
            seen.extend(n['namespace'] for n in page)
            marker = page[-1]['namespace']
        self.assertEqual(['a', 'b', 'c', 'd', 'e'], sorted(seen))
        self.assertEqual(5, len(seen))
        self.assertRaises(exception.InvalidSortKey, db.namespace_get_all, sort_key='owner')
        self.assertRaises(exception.MetadefNamespaceNotFound, db.namespace_get_all,
                          marker='nope')

    def test_update_and_rename(self):
        _namespace('old')
        _namespace('taken')
        updated = db.namespace_update('old', {'namespace': 'new', 'display_name': 'New',
                                              'visibility': 'public', 'protected': True})
        self.assertEqual(('new', 'New', 'public', True),
                         (updated['namespace'], updated['display_name'],
                          updated['visibility'], updated['protected']))
        self.assertRaises(exception.MetadefNamespaceNotFound, db.namespace_get, 'old')
        self.assertRaises(exception.Duplicate, db.namespace_update, 'new',
                          {'namespace': 'taken'})

    def test_delete_takes_the_content_along(self):
        _namespace('gone', properties={'p': _PROP}, objects=[{'name': 'o'}],
                   tags=[{'name': 't'}],
                   resource_type_associations=[{'name': 'OS::Glance::Image'}])
        db.namespace_delete('gone')
        self.assertRaises(exception.MetadefNamespaceNotFound, db.namespace_get_detail, 'gone')
        # the resource type stays; the same names can be used again
        self.assertEqual(['OS::Glance::Image'],
                         [r['name'] for r in db.resource_type_get_all()])
        _namespace('gone', properties={'p': _PROP}, tags=[{'name': 't'}])
        self.assertRaises(exception.MetadefNamespaceNotFound, db.namespace_delete, 'nope')


@base.on_every_engine
class TestNamespaceContent(base.DbTestCase):

    def setUp(self):
        super().setUp()
        _namespace('ns')

    def test_objects(self):
        db.object_create('ns', {'name': 'o1', 'description': 'd', 'required': ['a'],
                                'properties': {'a': {'title': 'A', 'type': 'string'}}})
        db.object_create('ns', {'name': 'o2'})
        self.assertRaises(exception.Duplicate, db.object_create, 'ns', {'name': 'o1'})
        self.assertEqual('d', db.object_get('ns', 'o1')['description'])
        self.assertEqual(['o1', 'o2'], [o['name'] for o in db.object_get_all(
            'ns', sort_key='name', sort_dir='asc')])
        self.assertEqual(['o2'], [o['name'] for o in db.object_get_all(
            'ns', sort_key='name', sort_dir='asc', marker='o1')])
        updated = db.object_update('ns', 'o1', {'name': 'o3', 'properties': {}})
        self.assertEqual(('o3', None, [], {}), (updated['name'], updated['description'],
                                                updated['required'], updated['properties']))
        self.assertRaises(exception.Duplicate, db.object_update, 'ns', 'o3', {'name': 'o2'})
        db.object_delete('ns', 'o3')
        self.assertRaises(exception.MetadefObjectNotFound, db.object_get, 'ns', 'o3')
        self.assertRaises(exception.MetadefObjectNotFound, db.object_delete, 'ns', 'o3')
        db.objects_delete_all('ns')
        self.assertEqual([], db.object_get_all('ns'))
        self.assertRaises(exception.MetadefNamespaceNotFound, db.object_get_all, 'nope')

    def test_properties(self):
        db.property_create('ns', 'p1', _PROP)
        self.assertRaises(exception.Duplicate, db.property_create, 'ns', 'p1', _PROP)
        self.assertEqual(_PROP, db.property_get('ns', 'p1')['schema'])
        db.property_update('ns', 'p1', 'p2', {'title': 'T', 'type': 'boolean'})
        self.assertRaises(exception.MetadefPropertyNotFound, db.property_get, 'ns', 'p1')
        self.assertEqual({'title': 'T', 'type': 'boolean'},
                         db.property_get('ns', 'p2')['schema'])
        db.property_create('ns', 'p3', _PROP)
        db.property_delete('ns', 'p2')
        self.assertEqual(['p3'], [p['name'] for p in db.property_get_all('ns')])
        db.properties_delete_all('ns')
        self.assertEqual([], db.property_get_all('ns'))

    def test_tags_one_by_one_and_in_bulk(self):
        db.tag_create('ns', 'a')
        self.assertRaises(exception.Duplicate, db.tag_create, 'ns', 'a')
        db.tags_create('ns', ['b', 'c'], append=True)
        self.assertEqual(['a', 'b', 'c'], [t['name'] for t in db.tag_get_all(
            'ns', sort_key='name', sort_dir='asc')])
        db.tags_create('ns', ['x', 'y'])  # replaces
        self.assertEqual(['x', 'y'], [t['name'] for t in db.tag_get_all(
            'ns', sort_key='name', sort_dir='asc')])
        self.assertRaises(exception.Duplicate, db.tags_create, 'ns', ['y'], append=True)
        self.assertEqual(2, len(db.tag_get_all('ns')))  # the failed bulk create left no trace
        db.tag_update('ns', 'x', 'z')
        self.assertEqual('z', db.tag_get('ns', 'z')['name'])
        self.assertRaises(exception.Duplicate, db.tag_update, 'ns', 'z', 'y')
        db.tag_delete('ns', 'z')
        self.assertRaises(exception.MetadefTagNotFound, db.tag_get, 'ns', 'z')
        db.tags_delete_all('ns')
        self.assertEqual([], db.tag_get_all('ns'))

    def test_resource_type_associations(self):
        assoc = db.association_create('ns', {'name': 'OS::Cinder::Volume', 'prefix': 'hw_',
                                             'properties_target': 'image'})
        self.assertEqual(('OS::Cinder::Volume', 'hw_', 'image'),
                         (assoc['name'], assoc['prefix'], assoc['properties_target']))
        self.assertRaises(exception.Duplicate, db.association_create, 'ns',
                          {'name': 'OS::Cinder::Volume'})
        self.assertEqual(['OS::Cinder::Volume'],
                         [a['name'] for a in db.association_get_all('ns')])
        db.association_delete('ns', 'OS::Cinder::Volume')
        self.assertEqual([], db.association_get_all('ns'))
        self.assertRaises(exception.MetadefResourceTypeAssociationNotFound,
                          db.association_delete, 'ns', 'OS::Cinder::Volume')
        self.assertRaises(exception.MetadefResourceTypeAssociationNotFound,
                          db.association_delete, 'ns', 'OS::Never::Seen')


@base.on_every_engine
class TestCatalogImport(base.DbTestCase):

    DOC = {'namespace': 'OS::Doc', 'display_name': 'Doc', 'visibility': 'public',
           'protected': True,
           'resource_type_associations': [{'name': 'OS::Glance::Image', 'prefix': 'a_'}],
           'properties': {'p1': {'title': 'P1', 'type': 'string'}},
           'objects': [{'name': 'o1', 'required': [], 'properties': {}}],
           'tags': [{'name': 't1'}]}

    def _changed(self):
        return {'namespace': 'OS::Doc', 'display_name': 'Doc v2', 'visibility': 'public',
                'protected': True,
                'resource_type_associations': [{'name': 'OS::Glance::Image', 'prefix': 'b_'}],
                'properties': {'p1': {'title': 'P1 v2', 'type': 'string'},
                               'p2': {'title': 'P2', 'type': 'integer'}},
                'tags': [{'name': 't2'}]}

    def _state(self):
        detail = db.namespace_get_detail('OS::Doc')
        return (detail['display_name'],
                {p['name']: p['schema']['title'] for p in detail['properties']},
                [o['name'] for o in detail['objects']],
                sorted(t['name'] for t in detail['tags']),
                [a['prefix'] for a in detail['resource_type_associations']])

    def test_skip_merge_prefer_new_overwrite(self):
        self.assertTrue(db.catalog_is_empty())
        self.assertEqual('created', db.catalog_import(self.DOC))
        self.assertFalse(db.catalog_is_empty())
        self.assertEqual('skipped', db.catalog_import(self._changed()))
        self.assertEqual(('Doc', {'p1': 'P1'}, ['o1'], ['t1'], ['a_']), self._state())
        self.assertEqual('merged', db.catalog_import(self._changed(), merge=True))
        self.assertEqual(('Doc', {'p1': 'P1', 'p2': 'P2'}, ['o1'], ['t1', 't2'], ['a_']),
                         self._state())
        db.catalog_import(self._changed(), merge=True, prefer_new=True)
        self.assertEqual(('Doc v2', {'p1': 'P1 v2', 'p2': 'P2'}, ['o1'], ['t1', 't2'],
                          ['b_']), self._state())
        db.catalog_import(self._changed(), merge=True, overwrite=True)
        self.assertEqual(('Doc v2', {'p1': 'P1 v2', 'p2': 'P2'}, [], ['t2'], ['b_']),
                         self._state())

    def test_delete_everything(self):
        db.catalog_import(self.DOC)
        db.catalog_delete()
        self.assertTrue(db.catalog_is_empty())
        self.assertEqual([], db.catalog_export())
