"""The metadata definitions catalog as its users meet it: an admin curates namespaces,
objects, properties, tags and resource type associations over /v2/metadefs; projects read
what is public and their own; the shipped catalog is there after ``glance-manage db sync``.
Real glance-api processes, driven with requests and the real glance and openstack CLIs."""

import json
import os
import uuid

import fixtures
import requests

from glance.tests.functional import base
from glance.tests.functional import databases
from glance.tests.functional.v2 import test_clients

ROOT = base.ROOT
NS = '/v2/metadefs/namespaces'
SHIPPED = {'OS::Compute::Hypervisor', 'OS::Compute::CPUPinning', 'OS::Compute::Watchdog'}

ADMIN = {'X-Roles': 'admin,member,reader', 'X-Project-Id': 'admin-project'}
MEMBER_A = {'X-Roles': 'member,reader', 'X-Project-Id': 'project-a'}
READER_B = {'X-Roles': 'reader', 'X-Project-Id': 'project-b'}


def unique(prefix='NS'):
    return '%s::%s' % (prefix, uuid.uuid4().hex[:10])


class MetadefClient:
    """requests against one glance-api, as a given caller."""

    def __init__(self, url, headers):
        self.url = url
        self.headers = headers

    def call(self, method, path, json_body=None, headers=None, **kwargs):
        all_headers = dict(self.headers, **(headers or {}))
        return requests.request(method, self.url + path, json=json_body,
                                headers=all_headers, timeout=30, **kwargs)


class _Catalog:
    """Helpers shared by the SQLite, PostgreSQL and MariaDB stories."""

    def clients(self):
        url = self.servers.api_url
        return (MetadefClient(url, ADMIN), MetadefClient(url, MEMBER_A),
                MetadefClient(url, READER_B))

    def create_namespace(self, admin, name, **body):
        body['namespace'] = name
        resp = admin.call('POST', NS, body)
        self.assertEqual(201, resp.status_code, resp.text)
        self.addCleanup(self._delete, admin, name)
        return resp.json()

    @staticmethod
    def _delete(admin, name):
        admin.call('PUT', '%s/%s' % (NS, name),
                   {'namespace': name, 'protected': False, 'visibility': 'public'})
        admin.call('DELETE', '%s/%s' % (NS, name))

    def check_lifecycle(self):
        admin, member_a, reader_b = self.clients()
        name = unique()
        created = self.create_namespace(
            admin, name, display_name='Lifecycle', visibility='public', protected=True,
            properties={'cpu_policy': {'title': 'CPU Policy', 'type': 'string',
                                       'enum': ['shared', 'dedicated']}},
            objects=[{'name': 'Pinning', 'required': ['cpu_policy'],
                      'properties': {'cpu_policy': {'title': 'P', 'type': 'string'}}}],
            tags=[{'name': 'cpu'}],
            resource_type_associations=[{'name': 'OS::Nova::Flavor', 'prefix': 'hw:'}])
        self.assertEqual('/v2/metadefs/namespaces/%s' % name, created['self'])
        self.assertEqual('admin-project', created['owner'])

        shown = reader_b.call('GET', '%s/%s' % (NS, name)).json()
        self.assertEqual(['cpu_policy'], list(shown['properties']))
        self.assertEqual('Pinning', shown['objects'][0]['name'])
        self.assertEqual([{'name': 'cpu'}], [{'name': t['name']} for t in shown['tags']])
        prefixed = reader_b.call('GET', '%s/%s?resource_type=OS::Nova::Flavor'
                                 % (NS, name)).json()
        self.assertEqual(['hw:cpu_policy'], list(prefixed['properties']))
        self.assertEqual(['hw:cpu_policy'], list(prefixed['objects'][0]['properties']))
        unrelated = reader_b.call('GET', '%s/%s?resource_type=OS::Not::Associated'
                                  % (NS, name)).json()
        self.assertEqual(['cpu_policy'], list(unrelated['properties']))
        prop = reader_b.call('GET', '%s/%s/properties/hw:cpu_policy?resource_type='
                             'OS::Nova::Flavor' % (NS, name))
        self.assertEqual(200, prop.status_code, prop.text)
        self.assertEqual('hw:cpu_policy', prop.json()['name'])

        # protected: not deletable, nor is its content, until unprotected
        self.assertEqual(403, admin.call('DELETE', '%s/%s' % (NS, name)).status_code)
        resp = admin.call('DELETE', '%s/%s/properties/cpu_policy' % (NS, name))
        self.assertEqual(403, resp.status_code)
        self.assertIn('protected', resp.text)
        # readers read, only admins write
        self.assertEqual(403, member_a.call('DELETE', '%s/%s' % (NS, name)).status_code)
        self.assertEqual(403, reader_b.call('POST', '%s/%s/tags/x' % (NS, name)).status_code)

        renamed = name + '-2'
        resp = admin.call('PUT', '%s/%s' % (NS, name),
                          {'namespace': renamed, 'visibility': 'public', 'protected': False,
                           'description': 'now deletable'})
        self.assertEqual(200, resp.status_code, resp.text)
        self.addCleanup(self._delete, admin, renamed)
        self.assertEqual(404, admin.call('GET', '%s/%s' % (NS, name)).status_code)
        self.assertEqual('now deletable',
                         admin.call('GET', '%s/%s' % (NS, renamed)).json()['description'])
        self.assertEqual(204, admin.call('DELETE', '%s/%s' % (NS, renamed)).status_code)
        self.assertEqual(404, admin.call('GET', '%s/%s' % (NS, renamed)).status_code)
        self.assertEqual(404, admin.call('GET', '%s/%s/objects' % (NS, renamed)).status_code)


class TestMetadefsAPI(_Catalog, base.FunctionalTest):

    shared_servers = True

    def test_shipped_catalog_is_loaded_by_db_sync(self):
        admin, _, reader_b = self.clients()
        listed = reader_b.call('GET', NS + '?limit=100').json()
        self.assertLessEqual(SHIPPED, {n['namespace'] for n in listed['namespaces']})
        types = {r['name'] for r in reader_b.call('GET', '/v2/metadefs/resource_types')
                 .json()['resource_types']}
        self.assertLessEqual({'OS::Glance::Image', 'OS::Nova::Flavor', 'OS::Cinder::Volume'},
                             types)
        flavor = reader_b.call('GET', NS + '?resource_types=OS::Nova::Flavor&limit=100')
        self.assertEqual({'OS::Compute::CPUPinning', 'OS::Compute::Watchdog'},
                         {n['namespace'] for n in flavor.json()['namespaces']} & SHIPPED)

    def test_namespace_lifecycle(self):
        self.check_lifecycle()

    def test_private_namespaces_are_their_owners(self):
        admin, member_a, reader_b = self.clients()
        name = unique('Private')
        self.create_namespace(admin, name, owner='project-a', visibility='private',
                              properties={'p': {'title': 'P', 'type': 'string'}})
        self.assertEqual(200, member_a.call('GET', '%s/%s' % (NS, name)).status_code)
        # another project learns nothing: 404 on every path, absent from lists
        for method, path in (('GET', ''), ('DELETE', ''), ('GET', '/properties'),
                             ('GET', '/properties/p'), ('POST', '/tags/t'),
                             ('GET', '/resource_types'), ('PUT', '')):
            resp = reader_b.call(method, '%s/%s%s' % (NS, name, path),
                                 {'namespace': name} if method == 'PUT' else None)
            self.assertEqual(404, resp.status_code, (method, path, resp.text))
            self.assertNotIn('project-a', resp.text)
        listed = reader_b.call('GET', NS + '?limit=1000').json()['namespaces']
        self.assertNotIn(name, [n['namespace'] for n in listed])
        listed = member_a.call('GET', NS + '?visibility=private&limit=1000').json()
        self.assertIn(name, [n['namespace'] for n in listed['namespaces']])
        # an invisible marker is a 400 like a missing one
        self.assertEqual(400, reader_b.call('GET', NS + '?marker=' + name).status_code)
        # the owner's project still may not write: the catalog is the admins'
        self.assertEqual(403, member_a.call('DELETE', '%s/%s' % (NS, name)).status_code)
        self.assertEqual(403, member_a.call('POST', NS, {'namespace': unique()}).status_code)

    def test_objects(self):
        admin, _, reader_b = self.clients()
        name = unique()
        self.create_namespace(admin, name, visibility='public')
        path = '%s/%s/objects' % (NS, name)
        body = {'name': 'Watchdog', 'description': 'A watchdog', 'required': ['action'],
                'properties': {'action': {'title': 'Action', 'type': 'string',
                                          'enum': ['reset', 'none']}}}
        resp = admin.call('POST', path, body)
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual('%s/Watchdog' % path, resp.json()['self'])
        self.assertEqual(409, admin.call('POST', path, body).status_code)
        admin.call('POST', path, {'name': 'Other'})
        listed = reader_b.call('GET', path + '?sort_key=name&sort_dir=asc').json()
        self.assertEqual(['Other', 'Watchdog'], [o['name'] for o in listed['objects']])
        self.assertEqual('/v2/schemas/metadefs/objects', listed['schema'])
        page = reader_b.call('GET', path + '?sort_key=name&sort_dir=asc&limit=1').json()
        self.assertEqual(['Other'], [o['name'] for o in page['objects']])
        self.assertIn('marker=Other', page['next'])
        shown = reader_b.call('GET', path + '/Watchdog').json()
        self.assertEqual(['action'], shown['required'])
        resp = admin.call('PUT', path + '/Watchdog', dict(shown, description='changed'))
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('changed', resp.json()['description'])
        self.assertEqual(204, admin.call('DELETE', path + '/Watchdog').status_code)
        self.assertEqual(404, admin.call('GET', path + '/Watchdog').status_code)
        self.assertEqual(204, admin.call('DELETE', path).status_code)
        self.assertEqual([], reader_b.call('GET', path).json()['objects'])

    def test_properties(self):
        admin, _, reader_b = self.clients()
        name = unique()
        self.create_namespace(admin, name, visibility='public')
        path = '%s/%s/properties' % (NS, name)
        body = {'name': 'hw_rng_model', 'title': 'RNG', 'type': 'string',
                'enum': ['virtio'], 'default': 'virtio'}
        resp = admin.call('POST', path, body)
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual(body, resp.json())
        self.assertEqual(409, admin.call('POST', path, body).status_code)
        self.assertEqual({'hw_rng_model': {'title': 'RNG', 'type': 'string',
                                           'enum': ['virtio'], 'default': 'virtio'}},
                         reader_b.call('GET', path).json()['properties'])
        resp = admin.call('PUT', path + '/hw_rng_model',
                          {'name': 'hw_rng', 'title': 'RNG', 'type': 'boolean'})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(404, reader_b.call('GET', path + '/hw_rng_model').status_code)
        self.assertEqual('boolean', reader_b.call('GET', path + '/hw_rng').json()['type'])
        self.assertEqual(204, admin.call('DELETE', path + '/hw_rng').status_code)
        admin.call('POST', path, body)
        self.assertEqual(204, admin.call('DELETE', path).status_code)
        self.assertEqual({}, reader_b.call('GET', path).json()['properties'])

    def test_tags_one_by_one_and_in_bulk(self):
        admin, _, reader_b = self.clients()
        name = unique()
        self.create_namespace(admin, name, visibility='public')
        path = '%s/%s/tags' % (NS, name)
        self.assertEqual(201, admin.call('POST', path + '/first').status_code)
        self.assertEqual(409, admin.call('POST', path + '/first').status_code)
        resp = admin.call('POST', path, {'tags': [{'name': 'a'}, {'name': 'b'}]},
                          headers={'X-Openstack-Append': 'True'})
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual({'tags': [{'name': 'a'}, {'name': 'b'}]}, resp.json())

        def names():
            return sorted(t['name'] for t in reader_b.call('GET', path).json()['tags'])
        self.assertEqual(['a', 'b', 'first'], names())
        # without the header the list replaces the tags
        admin.call('POST', path, {'tags': [{'name': 'x'}, {'name': 'y'}]})
        self.assertEqual(['x', 'y'], names())
        resp = admin.call('POST', path, {'tags': [{'name': 'z'}, {'name': 'z'}]})
        self.assertEqual(409, resp.status_code)
        self.assertEqual(['x', 'y'], names())
        resp = admin.call('PUT', path + '/x', {'name': 'renamed'})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('renamed', reader_b.call('GET', path + '/renamed').json()['name'])
        self.assertEqual(204, admin.call('DELETE', path + '/renamed').status_code)
        self.assertEqual(404, admin.call('DELETE', path + '/renamed').status_code)
        self.assertEqual(204, admin.call('DELETE', path).status_code)
        self.assertEqual([], names())

    def test_resource_type_associations(self):
        admin, _, reader_b = self.clients()
        name = unique()
        self.create_namespace(admin, name, visibility='public')
        path = '%s/%s/resource_types' % (NS, name)
        new_type = unique('OS::Test')
        resp = admin.call('POST', path, {'name': new_type, 'prefix': 'test_',
                                         'properties_target': 'image'})
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual(409, admin.call('POST', path, {'name': new_type}).status_code)
        self.assertEqual([(new_type, 'test_', 'image')],
                         [(a['name'], a['prefix'], a['properties_target']) for a in
                          reader_b.call('GET', path).json()['resource_type_associations']])
        # a resource type first seen in an association joins the list
        types = reader_b.call('GET', '/v2/metadefs/resource_types').json()['resource_types']
        self.assertIn(new_type, [t['name'] for t in types])
        listed = reader_b.call('GET', NS + '?resource_types=' + new_type).json()
        self.assertEqual([name], [n['namespace'] for n in listed['namespaces']])
        self.assertEqual(204, admin.call('DELETE', '%s/%s' % (path, new_type)).status_code)
        self.assertEqual(404, admin.call('DELETE', '%s/%s' % (path, new_type)).status_code)

    def test_pagination_and_sorting(self):
        admin, _, reader_b = self.clients()
        marker_type = unique('OS::Paging')
        names = sorted('%s-%d' % (unique('Page'), i) for i in range(5))
        for name in names:
            self.create_namespace(admin, name, visibility='public',
                                  resource_type_associations=[{'name': marker_type}])
        seen = []
        url = NS + '?resource_types=%s&limit=2&sort_key=namespace&sort_dir=asc' % marker_type
        for _ in range(5):
            body = reader_b.call('GET', url).json()
            seen.extend(n['namespace'] for n in body['namespaces'])
            self.assertEqual('/v2/schemas/metadefs/namespaces', body['schema'])
            if 'next' not in body:
                break
            url = body['next']
        self.assertEqual(names, seen)
        body = reader_b.call('GET', NS + '?resource_types=%s&sort_key=namespace&sort_dir=desc'
                             % marker_type).json()
        self.assertEqual(names[::-1], [n['namespace'] for n in body['namespaces']])

    def test_schemas(self):
        _, _, reader_b = self.clients()
        for name in ('namespace', 'namespaces', 'resource_type', 'resource_types',
                     'property', 'properties', 'object', 'objects', 'tag', 'tags'):
            resp = reader_b.call('GET', '/v2/schemas/metadefs/' + name)
            self.assertEqual(200, resp.status_code, name)
            self.assertIn('properties', resp.json())
            self.assertIn('name', resp.json())
        self.assertEqual(404, reader_b.call('GET', '/v2/schemas/metadefs/nope').status_code)

    def test_bad_input_is_a_clear_4xx(self):
        admin, _, _ = self.clients()
        name = unique()
        self.create_namespace(admin, name, visibility='public')
        cases = [
            ('POST', NS, {'namespace': 'x' * 81}, 400, 'too long'),
            ('POST', NS, {'namespace': unique(), 'visibility': 'everyone'}, 400,
             'visibility'),
            ('POST', NS, {'display_name': 'no namespace'}, 400, 'namespace'),
            ('POST', NS, {'namespace': unique(), 'bogus': 1}, 400, 'bogus'),
            ('POST', NS, {'namespace': name}, 409, 'already exists'),
            ('POST', NS, [1, 2], 400, 'JSON object'),
            ('GET', NS + '?limit=-1', None, 400, 'limit'),
            ('GET', NS + '?limit=abc', None, 400, 'limit'),
            ('GET', NS + '?sort_key=owner', None, 400, 'sort_key'),
            ('GET', NS + '?sort_dir=up', None, 400, 'sort_dir'),
            ('GET', NS + '?visibility=all', None, 400, 'visibility'),
            ('GET', NS + '?marker=' + unique(), None, 400, 'Marker'),
            ('POST', '%s/%s/properties' % (NS, name),
             {'name': 'p', 'title': 'P', 'type': 'text'}, 400, 'type'),
            ('POST', '%s/%s/properties' % (NS, name), {'name': 'p', 'type': 'string'}, 400,
             'title'),
            ('POST', '%s/%s/objects' % (NS, name), {'description': 'no name'}, 400, 'name'),
            ('POST', '%s/%s/tags/%s' % (NS, name, 't' * 81), None, 400, 'too long'),
            ('POST', '%s/%s/tags' % (NS, name), {'tags': 'a'}, 400, 'tags'),
            ('POST', '%s/%s/resource_types' % (NS, name), {'prefix': 'x'}, 400, 'name'),
            ('GET', '%s/%s/objects/none' % (NS, name), None, 404, 'none'),
            ('GET', '%s/%s/tags?sort_key=size' % (NS, name), None, 400, 'sort_key'),
            ('PATCH', '%s/%s' % (NS, name), None, 405, ''),
        ]
        for method, path, body, status, text in cases:
            resp = admin.call(method, path, body)
            self.assertEqual(status, resp.status_code, (method, path, resp.text))
            self.assertIn(text, resp.text, (method, path))
        resp = admin.call('POST', NS, data=b'{not json', headers={
            'Content-Type': 'application/json'})
        self.assertEqual(400, resp.status_code)


class _OtherEngine(_Catalog):
    """The lifecycle and the catalog on a real PostgreSQL or MariaDB database."""

    ENGINE = None

    def setUp(self):
        # testtools' setUp, not FunctionalTest's: these servers need a database first
        super(base.FunctionalTest, self).setUp()
        try:
            database = self.useFixture(databases.ScratchDatabase(self.ENGINE))
        except fixtures.SetupError as e:
            self.skipTest(str(e))
        self.servers = self.useFixture(base.ServerFixture(stream=False,
                                                          connection=database.url))

    def test_lifecycle_and_shipped_catalog(self):
        self.check_lifecycle()
        _, _, reader_b = self.clients()
        names = {n['namespace'] for n in
                 reader_b.call('GET', NS).json()['namespaces']}
        self.assertEqual(SHIPPED, names)
        result = self.servers.manage('db', 'export_metadefs', '--path',
                                     os.path.join(self.servers.dir, 'export'))
        self.assertIn('Exported 3 namespaces', result.stdout)
        with open(os.path.join(ROOT, 'etc', 'metadefs', 'compute-watchdog.json'), 'rb') as f:
            shipped = f.read()
        with open(os.path.join(self.servers.dir, 'export', 'OS--Compute--Watchdog.json'),
                  'rb') as f:
            self.assertEqual(shipped, f.read())


class TestMetadefsPostgreSQL(_OtherEngine, base.FunctionalTest):
    ENGINE = 'postgresql'


class TestMetadefsMySQL(_OtherEngine, base.FunctionalTest):
    ENGINE = 'mysql'


class TestManageMetadefs(base.FunctionalTest):
    """glance-manage db load_metadefs / export_metadefs / unload_metadefs, as an operator."""

    server_kwargs = {'stream': False}

    def _read(self, path):
        result = {}
        for name in os.listdir(path):
            with open(os.path.join(path, name), 'rb') as f:
                content = f.read()
            result[json.loads(content)['namespace']] = content
        return result

    def test_unload_load_export_round_trip(self):
        servers = self.servers
        shipped = self._read(os.path.join(ROOT, 'etc', 'metadefs'))
        first = os.path.join(servers.dir, 'first')
        servers.manage('db', 'export_metadefs', '--path', first)
        self.assertEqual(shipped, self._read(first))

        out = servers.manage('db', 'load_metadefs', '--path', first).stdout
        self.assertIn('0 created, 0 merged, 3 skipped', out)
        servers.manage('db', 'unload_metadefs')
        body = requests.get(servers.api_url + NS, timeout=30).json()
        self.assertEqual([], body['namespaces'])
        out = servers.manage('db', 'load_metadefs', '--path', first).stdout
        self.assertIn('3 created', out)
        second = os.path.join(servers.dir, 'second')
        servers.manage('db', 'export-metadefs', '--path', second)
        self.assertEqual(shipped, self._read(second))

        # --merge --overwrite puts a changed namespace back as the files say
        requests.post(servers.api_url + NS + '/OS::Compute::Watchdog/tags/extra', timeout=30)
        out = servers.manage('db', 'load_metadefs', '--path', first, '--merge',
                             '--overwrite').stdout
        self.assertIn('3 merged', out)
        third = os.path.join(servers.dir, 'third')
        servers.manage('db', 'export_metadefs', '--path', third)
        self.assertEqual(shipped, self._read(third))

    def test_operator_mistakes_end_with_a_sentence(self):
        result = self.servers.manage('db', 'load_metadefs', '--path',
                                     os.path.join(self.servers.dir, 'nowhere'), check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('does not exist', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        result = self.servers.manage('db', 'load_metadefs', '--overwrite', check=False)
        self.assertEqual(1, result.returncode)
        self.assertIn('only apply with --merge', result.stdout)


class TestMetadefCLIs(test_clients.ClientTest):
    """python-glanceclient's md-* commands and openstackclient's image metadef commands."""

    def test_glance_md_commands(self):
        name = unique('GlanceCLI')
        out = self.glance('md-namespace-create', name, '--visibility', 'public',
                          '--description', 'from glance').stdout
        self.assertIn(name, out)
        self.assertIn(name, self.glance('md-namespace-list').stdout)
        self.assertIn('OS::Compute::Watchdog', self.glance('md-namespace-list').stdout)
        self.glance('md-property-create', name, '--name', 'hw_x', '--title', 'X', '--type',
                    'string', '--schema', '{"type": "string", "enum": ["a", "b"]}')
        self.assertIn('hw_x', self.glance('md-property-list', name).stdout)
        self.assertIn('"a"', self.glance('md-property-show', name, 'hw_x').stdout)
        self.glance('md-property-update', name, 'hw_x', '--title', 'X2')
        self.assertIn('X2', self.glance('md-property-show', name, 'hw_x').stdout)
        self.glance('md-object-create', name, '--name', 'Obj', '--schema',
                    '{"description": "an object", "properties": {"p": {"title": "P", '
                    '"type": "integer"}}}')
        self.assertIn('Obj', self.glance('md-object-list', name).stdout)
        self.assertIn('an object', self.glance('md-object-show', name, 'Obj').stdout)
        self.glance('md-tag-create-multiple', name, '--names', 'one,two', '--delim', ',')
        self.glance('md-tag-create', name, '--name', 'three')
        tags = self.glance('md-tag-list', name).stdout
        for tag in ('one', 'two', 'three'):
            self.assertIn(tag, tags)
        self.glance('md-tag-update', name, 'three', '--name', 'four')
        self.assertIn('four', self.glance('md-tag-show', name, 'four').stdout)
        self.glance('md-resource-type-associate', name, '--name', 'OS::Glance::Image',
                    '--prefix', 'img_')
        self.assertIn('OS::Glance::Image',
                      self.glance('md-namespace-resource-type-list', name).stdout)
        self.assertIn('OS::Nova::Flavor', self.glance('md-resource-type-list').stdout)
        self.glance('md-namespace-update', name, '--display-name', 'Renamed')
        self.assertIn('Renamed', self.glance('md-namespace-show', name).stdout)
        self.glance('md-resource-type-deassociate', name, 'OS::Glance::Image')
        self.glance('md-tag-delete', name, 'four')
        self.glance('md-namespace-tags-delete', name)
        self.glance('md-object-delete', name, 'Obj')
        self.glance('md-property-delete', name, 'hw_x')
        self.glance('md-namespace-delete', name)
        result = self.glance('md-namespace-show', name, expect_ok=False)
        self.assertNotEqual(0, result.returncode)
        self.assertIn('404', result.stderr + result.stdout)

    def test_openstack_image_metadef_commands(self):
        name = unique('OSC')
        self.openstack('image', 'metadef', 'namespace', 'create', name, '--public',
                       '--display-name', 'OSC namespace', '--protected')
        shown = self.openstack_json('image', 'metadef', 'namespace', 'show', name)
        self.assertEqual('OSC namespace', shown['display_name'])
        listed = self.openstack_json('image', 'metadef', 'namespace', 'list')
        names = {row.get('namespace') or row.get('Namespace') for row in listed}
        self.assertLessEqual({name} | SHIPPED, names)

        self.openstack('image', 'metadef', 'property', 'create', name, '--name', 'hw_y',
                       '--title', 'Y', '--type', 'string', '--schema', '{"enum": ["a"]}')
        props = self.openstack_json('image', 'metadef', 'property', 'list', name)
        self.assertIn('hw_y', json.dumps(props))
        prop = self.openstack_json('image', 'metadef', 'property', 'show', name, 'hw_y')
        self.assertEqual('Y', prop['title'])
        self.openstack('image', 'metadef', 'object', 'create', '--namespace', name, 'Obj')
        self.assertIn('Obj', json.dumps(self.openstack_json(
            'image', 'metadef', 'object', 'list', name)))
        self.assertEqual('Obj', self.openstack_json('image', 'metadef', 'object', 'show',
                                                    name, 'Obj')['name'])
        self.openstack('image', 'metadef', 'resource', 'type', 'association', 'create',
                       name, 'OS::Cinder::Volume', '--properties-target', 'image')
        self.assertIn('OS::Cinder::Volume', json.dumps(self.openstack_json(
            'image', 'metadef', 'resource', 'type', 'association', 'list', name)))
        self.assertIn('OS::Glance::Image', json.dumps(self.openstack_json(
            'image', 'metadef', 'resource', 'type', 'list')))

        result = self.openstack('image', 'metadef', 'namespace', 'delete', name,
                                expect_ok=False)
        self.assertNotEqual(0, result.returncode)  # protected
        self.openstack('image', 'metadef', 'namespace', 'set', name, '--unprotected')
        self.openstack('image', 'metadef', 'object', 'delete', name, 'Obj')
        self.openstack('image', 'metadef', 'property', 'delete', name, 'hw_y')
        self.openstack('image', 'metadef', 'namespace', 'delete', name)
        result = self.openstack('image', 'metadef', 'namespace', 'show', name,
                                expect_ok=False)
        self.assertNotEqual(0, result.returncode)
