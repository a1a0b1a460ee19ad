"""The Images API v2 metadata calls over HTTP, against a real glance-api (noauth flavor).

Other projects and roles are played with the X-Project-Id and X-Roles headers, which the
standalone flavor honours.
"""

import json
import uuid

import requests

from glance.tests.functional import base

PATCH = 'application/openstack-images-v2.1-json-patch'


class ImagesTestBase(base.FunctionalTest):

    shared_servers = True
    server_kwargs = {'stream': False, 'api_conf': {
        'DEFAULT': {'image_property_quota': 5, 'image_tag_quota': 3,
                    'image_member_quota': 3},
        'api': {'limit_param_max': 4},
    }}

    def setUp(self):
        super().setUp()
        self.project = 'p-' + uuid.uuid4().hex[:8]  # each test its own project
        self.session = requests.Session()

    def headers(self, project=None, roles='member,reader', **extra):
        headers = {'X-Project-Id': project or self.project, 'X-Roles': roles}
        headers.update(extra)
        return headers

    def url(self, path):
        return self.servers.api_url + path

    def create(self, expect=201, project=None, roles='member,reader', **body):
        resp = self.session.post(self.url('/v2/images'), json=body,
                                 headers=self.headers(project, roles))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp.json() if resp.status_code == 201 else resp

    def get(self, path, project=None, roles='member,reader', **params):
        return self.session.get(self.url(path), params=params,
                                headers=self.headers(project, roles))

    def patch(self, image_id, ops, project=None, roles='member,reader', media_type=PATCH):
        return self.session.patch(self.url('/v2/images/%s' % image_id), data=json.dumps(ops),
                                  headers=self.headers(project, roles,
                                                       **{'Content-Type': media_type}))


class TestCreate(ImagesTestBase):

    def test_defaults_and_representation(self):
        image = self.create(name='cirros', disk_format='qcow2', container_format='bare',
                            os_distro='cirros', tags=['a', 'b'])
        self.assertEqual('queued', image['status'])
        self.assertEqual('shared', image['visibility'])
        self.assertEqual(self.project, image['owner'])
        self.assertEqual('cirros', image['os_distro'])
        self.assertEqual(['a', 'b'], sorted(image['tags']))
        for key in ('size', 'checksum', 'os_hash_algo', 'os_hash_value', 'virtual_size'):
            self.assertIsNone(image[key])
        self.assertEqual('/v2/images/%s' % image['id'], image['self'])
        self.assertEqual('/v2/images/%s/file' % image['id'], image['file'])
        self.assertEqual('/v2/schemas/image', image['schema'])
        self.assertTrue(image['created_at'].endswith('Z'))
        self.assertNotIn('locations', image)
        self.assertNotIn('direct_url', image)
        shown = self.get('/v2/images/%s' % image['id']).json()
        self.assertEqual(image, shown)

    def test_caller_chosen_id_and_duplicate(self):
        image_id = str(uuid.uuid4())
        self.assertEqual(image_id, self.create(id=image_id)['id'])
        resp = self.create(expect=409, id=image_id)
        self.assertIn(image_id, resp.text)

    def test_bad_input(self):
        cases = [
            ({'id': 'not-a-uuid'}, 400, 'id'),
            ({'status': 'active'}, 403, 'status'),
            ({'size': 10}, 403, 'size'),
            ({'os_glance_importing_to_stores': 'x'}, 403, 'os_glance'),
            ({'deleted': 'true'}, 403, 'deleted'),
            ({'disk_format': 'floppy'}, 400, 'disk_format'),
            ({'min_ram': -1}, 400, 'min_ram'),
            ({'custom': 5}, 400, 'custom'),
            ({'name': 'x' * 256}, 400, 'name'),
            ({'visibility': 'everyone'}, 400, 'visibility'),
            ({'kernel_id': 'nope'}, 400, 'kernel_id'),
            ({'tags': ['x' * 256]}, 400, 'tags'),
        ]
        for body, status, word in cases:
            resp = self.create(expect=status, **body)
            self.assertIn(word, resp.text, body)

    def test_malformed_bodies(self):
        for data in (b'{', b'[]', b'"name"', b''):
            resp = self.session.post(self.url('/v2/images'), data=data,
                                     headers=self.headers(**{'Content-Type':
                                                             'application/json'}))
            self.assertEqual(400, resp.status_code, data)

    def test_public_needs_admin(self):
        self.create(expect=403, visibility='public')
        image = self.create(visibility='public', roles='admin,member,reader')
        self.assertEqual('public', image['visibility'])

    def test_community_allowed_to_members(self):
        self.assertEqual('community', self.create(visibility='community')['visibility'])

    def test_reader_cannot_create(self):
        self.create(expect=403, roles='reader')

    def test_owner_of_another_project_needs_admin(self):
        self.create(expect=403, owner='someone-else')
        image = self.create(owner='someone-else', roles='admin')
        self.assertEqual('someone-else', image['owner'])

    def test_quotas(self):
        resp = self.create(expect=413, a='1', b='2', c='3', d='4', e='5', f='6')
        self.assertIn('properties', resp.text)
        resp = self.create(expect=413, tags=['1', '2', '3', '4'])
        self.assertIn('tags', resp.text)


class TestShowAndDelete(ImagesTestBase):

    def test_missing_and_malformed_ids_are_404(self):
        self.assertEqual(404, self.get('/v2/images/%s' % uuid.uuid4()).status_code)
        self.assertEqual(404, self.get('/v2/images/not-a-uuid').status_code)

    def test_other_projects_private_image_is_404(self):
        image = self.create(visibility='private')
        resp = self.get('/v2/images/%s' % image['id'], project='intruder')
        self.assertEqual(404, resp.status_code)
        self.assertNotIn(self.project, resp.text)
        resp = self.session.delete(self.url('/v2/images/%s' % image['id']),
                                   headers=self.headers('intruder'))
        self.assertEqual(404, resp.status_code)

    def test_delete(self):
        image = self.create()
        resp = self.session.delete(self.url('/v2/images/%s' % image['id']),
                                   headers=self.headers())
        self.assertEqual(204, resp.status_code)
        self.assertEqual(404, self.get('/v2/images/%s' % image['id']).status_code)
        resp = self.session.delete(self.url('/v2/images/%s' % image['id']),
                                   headers=self.headers())
        self.assertEqual(404, resp.status_code)

    def test_protected_image_refuses_delete(self):
        image = self.create(protected=True)
        resp = self.session.delete(self.url('/v2/images/%s' % image['id']),
                                   headers=self.headers())
        self.assertEqual(403, resp.status_code)
        self.assertIn('protected', resp.text)
        self.assertEqual(200, self.get('/v2/images/%s' % image['id']).status_code)

    def test_public_image_visible_but_not_deletable_by_others(self):
        image = self.create(visibility='public', roles='admin')
        self.assertEqual(200, self.get('/v2/images/%s' % image['id'],
                                       project='other').status_code)
        resp = self.session.delete(self.url('/v2/images/%s' % image['id']),
                                   headers=self.headers('other'))
        self.assertEqual(403, resp.status_code)


class TestList(ImagesTestBase):

    def setUp(self):
        super().setUp()
        self.images = [
            self.create(name='alpha', disk_format='raw', container_format='bare',
                        tags=['t1'], os_distro='debian', visibility='private'),
            self.create(name='beta', disk_format='qcow2', container_format='bare',
                        tags=['t1', 't2'], min_ram=512),
            self.create(name='gamma', disk_format='qcow2', container_format='ova',
                        os_hidden=True),
            self.create(name='delta', visibility='community'),
        ]

    def names(self, **params):
        resp = self.get('/v2/images', **params)
        self.assertEqual(200, resp.status_code, resp.text)
        return sorted(i['name'] for i in resp.json()['images']
                      if i['owner'] == self.project)

    def test_default_list_hides_hidden_and_others_community_images(self):
        # Community images appear in the default list of their owner only.
        self.assertEqual(['alpha', 'beta', 'delta'], self.names())
        resp = self.get('/v2/images', project='other', owner=self.project)
        self.assertEqual([], resp.json()['images'])
        resp = self.get('/v2/images', project='other', owner=self.project,
                        visibility='community')
        self.assertEqual(['delta'], [i['name'] for i in resp.json()['images']])

    def test_filters(self):
        self.assertEqual(['alpha'], self.names(name='alpha'))
        self.assertEqual(['alpha', 'beta'], self.names(tag='t1'))
        self.assertEqual(['beta'], self.names(tag=['t1', 't2']))
        self.assertEqual(['beta'], self.names(disk_format='qcow2'))
        self.assertEqual(['alpha', 'beta'], self.names(name='in:alpha,beta,zeta'))
        self.assertEqual(['alpha'], self.names(os_distro='debian'))
        self.assertEqual(['gamma'], self.names(os_hidden='true'))
        self.assertEqual(['delta'], self.names(visibility='community'))
        self.assertEqual(['alpha'], self.names(visibility='private'))
        self.assertEqual(['alpha', 'beta', 'delta'],
                         self.names(created_at='gte:2000-01-01T00:00:00Z'))
        self.assertEqual([], self.names(created_at='lt:2000-01-01T00:00:00Z'))
        self.assertEqual(['alpha', 'beta', 'delta'], self.names(owner=self.project))
        self.assertEqual(['alpha', 'beta', 'delta'], self.names(status='queued'))
        self.assertEqual([], self.names(protected='true'))

    def test_bad_parameters_are_400(self):
        for params in ({'sort_key': 'password'}, {'sort_dir': 'sideways'},
                       {'limit': '-1'}, {'limit': 'ten'}, {'size_min': 'big'},
                       {'protected': 'maybe'}, {'created_at': 'yesterday'},
                       {'created_at': 'gt:notatime'}, {'member_status': 'friends'},
                       {'visibility': 'everyone'}, {'changes-since': '2020-01-01'},
                       {'marker': 'not-a-uuid'}, {'marker': str(uuid.uuid4())},
                       {'sort': 'name:asc', 'sort_key': 'name'}):
            resp = self.get('/v2/images', **params)
            self.assertEqual(400, resp.status_code, (params, resp.text))

    def test_sorting(self):
        resp = self.get('/v2/images', owner=self.project, sort_key='name', sort_dir='asc')
        self.assertEqual(['alpha', 'beta', 'delta'],
                         [i['name'] for i in resp.json()['images']])
        resp = self.get('/v2/images', owner=self.project, sort='name:desc')
        self.assertEqual(['delta', 'beta', 'alpha'],
                         [i['name'] for i in resp.json()['images']])

    def test_paging_follows_next_links(self):
        for n in range(5):
            self.create(name='page%d' % n)
        seen, url, pages = [], '/v2/images?limit=2&owner=%s' % self.project, 0
        while url and pages < 10:
            body = self.session.get(self.url(url), headers=self.headers()).json()
            self.assertEqual('/v2/schemas/images', body['schema'])
            seen += [i['name'] for i in body['images']]
            url = body.get('next')
            pages += 1
        self.assertEqual(8, len(seen))
        self.assertEqual(len(seen), len(set(seen)))

    def test_limit_is_capped(self):
        for n in range(3):
            self.create(name='cap%d' % n)
        resp = self.get('/v2/images', limit=100, owner=self.project)
        self.assertEqual(4, len(resp.json()['images']))

    def test_reader_can_list_but_other_projects_see_only_public(self):
        self.assertEqual(['alpha', 'beta', 'delta'], self.names(roles='reader'))
        resp = self.get('/v2/images', project='other', owner=self.project)
        self.assertEqual([], resp.json()['images'])


class TestPatch(ImagesTestBase):

    def setUp(self):
        super().setUp()
        self.image = self.create(name='before', os_distro='debian', tags=['x'])

    def _patch(self, ops, expect=200, **kwargs):
        resp = self.patch(self.image['id'], ops, **kwargs)
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def test_replace_add_remove(self):
        body = self._patch([
            {'op': 'replace', 'path': '/name', 'value': 'after'},
            {'op': 'add', 'path': '/os_version', 'value': '12'},
            {'op': 'remove', 'path': '/os_distro'},
            {'op': 'replace', 'path': '/tags', 'value': ['y', 'z']},
            {'op': 'replace', 'path': '/min_ram', 'value': 1024},
        ]).json()
        self.assertEqual('after', body['name'])
        self.assertEqual('12', body['os_version'])
        self.assertNotIn('os_distro', body)
        self.assertEqual(['y', 'z'], sorted(body['tags']))
        self.assertEqual(1024, body['min_ram'])
        self.assertEqual(body, self.get('/v2/images/%s' % self.image['id']).json())

    def test_old_media_type(self):
        body = self._patch([{'replace': '/name', 'value': 'v20'}],
                           media_type='application/openstack-images-v2.0-json-patch').json()
        self.assertEqual('v20', body['name'])

    def test_errors(self):
        cases = [
            ([{'op': 'replace', 'path': '/status', 'value': 'active'}], 403),
            ([{'op': 'add', 'path': '/checksum', 'value': 'x'}], 403),
            ([{'op': 'add', 'path': '/os_glance_x', 'value': 'x'}], 403),
            ([{'op': 'remove', 'path': '/name'}], 403),
            ([{'op': 'remove', 'path': '/nonesuch'}], 409),
            ([{'op': 'replace', 'path': '/nonesuch', 'value': 'x'}], 409),
            ([{'op': 'move', 'path': '/name', 'value': 'x'}], 400),
            ([{'op': 'replace', 'path': 'name', 'value': 'x'}], 400),
            ([{'op': 'replace', 'path': '/a/b', 'value': 'x'}], 400),
            ([{'op': 'replace', 'path': '/name'}], 400),
            ([{'op': 'replace', 'path': '/min_ram', 'value': 'lots'}], 400),
            ([{'op': 'add', 'path': '/custom', 'value': 7}], 400),
            ({'op': 'replace'}, 400),
        ]
        for ops, status in cases:
            self._patch(ops, expect=status)

    def test_unsupported_media_type(self):
        self._patch([{'op': 'replace', 'path': '/name', 'value': 'x'}], expect=415,
                    media_type='application/json')

    def test_a_failing_patch_changes_nothing(self):
        self._patch([{'op': 'replace', 'path': '/name', 'value': 'half'},
                     {'op': 'replace', 'path': '/status', 'value': 'active'}], expect=403)
        self._patch([{'op': 'replace', 'path': '/name', 'value': 'half'},
                     {'op': 'add', 'path': '/a', 'value': '1'},
                     {'op': 'add', 'path': '/b', 'value': '1'},
                     {'op': 'add', 'path': '/c', 'value': '1'},
                     {'op': 'add', 'path': '/d', 'value': '1'},
                     {'op': 'add', 'path': '/e', 'value': '1'}], expect=413)
        self.assertEqual('before', self.get('/v2/images/%s' % self.image['id']).json()['name'])

    def test_visibility_rules(self):
        self._patch([{'op': 'replace', 'path': '/visibility', 'value': 'public'}], expect=403)
        self._patch([{'op': 'replace', 'path': '/visibility', 'value': 'public'}],
                    roles='admin')
        self._patch([{'op': 'replace', 'path': '/owner', 'value': 'other'}], expect=403)

    def test_reader_and_other_project(self):
        self._patch([{'op': 'replace', 'path': '/name', 'value': 'x'}], expect=403,
                    roles='reader')
        self._patch([{'op': 'replace', 'path': '/name', 'value': 'x'}], expect=404,
                    project='other')


class TestTagsAndActions(ImagesTestBase):

    def test_tags(self):
        image = self.create(tags=['a'])
        url = self.url('/v2/images/%s/tags/' % image['id'])
        self.assertEqual(204, self.session.put(url + 'b', headers=self.headers()).status_code)
        self.assertEqual(204, self.session.put(url + 'b', headers=self.headers()).status_code)
        self.assertEqual(['a', 'b'], sorted(self.get('/v2/images/%s' % image['id'])
                                            .json()['tags']))
        self.assertEqual(204, self.session.delete(url + 'a',
                                                  headers=self.headers()).status_code)
        self.assertEqual(404, self.session.delete(url + 'a',
                                                  headers=self.headers()).status_code)
        self.session.put(url + 'c', headers=self.headers())
        self.session.put(url + 'd', headers=self.headers())
        resp = self.session.put(url + 'e', headers=self.headers())
        self.assertEqual(413, resp.status_code)
        self.assertEqual(403, self.session.put(url + 'z', headers=self.headers(
            roles='reader')).status_code)

    def test_deactivate_needs_an_active_image(self):
        image = self.create()
        resp = self.session.post(self.url('/v2/images/%s/actions/deactivate' % image['id']),
                                 headers=self.headers())
        self.assertEqual(409, resp.status_code)
        resp = self.session.post(self.url('/v2/images/%s/actions/reactivate' % image['id']),
                                 headers=self.headers())
        self.assertEqual(409, resp.status_code)
        resp = self.session.get(self.url('/v2/images/%s/actions/deactivate' % image['id']),
                                headers=self.headers())
        self.assertEqual(405, resp.status_code)


class TestSchemas(ImagesTestBase):

    def test_image_schemas(self):
        schema = self.get('/v2/schemas/image').json()
        self.assertEqual('image', schema['name'])
        self.assertEqual({'type': 'string'}, schema['additionalProperties'])
        self.assertIn('qcow2', schema['properties']['disk_format']['enum'])
        self.assertTrue(schema['properties']['status']['readOnly'])
        images = self.get('/v2/schemas/images').json()
        self.assertEqual('images', images['name'])
