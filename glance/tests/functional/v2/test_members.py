"""Sharing images with other projects: the members API and what members then see."""

import uuid

from glance.tests.functional.v2 import test_images


class TestMembers(test_images.ImagesTestBase):

    def setUp(self):
        super().setUp()
        self.other = 'q-' + uuid.uuid4().hex[:8]
        self.image = self.create(name='shared-one')
        self.members_url = self.url('/v2/images/%s/members' % self.image['id'])

    def add(self, member, expect=200, project=None, roles='member,reader'):
        resp = self.session.post(self.members_url, json={'member': member},
                                 headers=self.headers(project, roles))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp.json() if expect == 200 else resp

    def set_status(self, status, expect=200, project=None, member=None):
        resp = self.session.put(self.members_url + '/' + (member or self.other),
                                json={'status': status},
                                headers=self.headers(project or self.other))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def listed_by_other(self, **params):
        return [i['id'] for i in self.get('/v2/images', project=self.other,
                                          **params).json()['images']]

    def test_share_accept_and_list(self):
        member = self.add(self.other)
        self.assertEqual({'image_id': self.image['id'], 'member_id': self.other,
                          'status': 'pending', 'schema': '/v2/schemas/member'},
                         {k: member[k] for k in ('image_id', 'member_id', 'status',
                                                 'schema')})
        # pending: showable by id, not listed by default
        self.assertEqual(200, self.get('/v2/images/%s' % self.image['id'],
                                       project=self.other).status_code)
        self.assertNotIn(self.image['id'], self.listed_by_other())
        self.assertIn(self.image['id'], self.listed_by_other(member_status='pending'))
        self.set_status('accepted')
        self.assertIn(self.image['id'], self.listed_by_other())
        self.assertIn(self.image['id'], self.listed_by_other(visibility='shared'))
        self.set_status('rejected')
        self.assertNotIn(self.image['id'], self.listed_by_other())
        self.assertIn(self.image['id'], self.listed_by_other(member_status='rejected'))

    def test_member_views(self):
        self.add(self.other)
        self.add('third')
        owner_view = self.get('/v2/images/%s/members' % self.image['id']).json()
        self.assertEqual({self.other, 'third'},
                         {m['member_id'] for m in owner_view['members']})
        self.assertEqual('/v2/schemas/members', owner_view['schema'])
        member_view = self.get('/v2/images/%s/members' % self.image['id'],
                               project=self.other).json()
        self.assertEqual([self.other], [m['member_id'] for m in member_view['members']])
        self.assertEqual(404, self.get('/v2/images/%s/members/third' % self.image['id'],
                                       project=self.other).status_code)
        self.assertEqual(200, self.get('/v2/images/%s/members/%s'
                                       % (self.image['id'], self.other),
                                       project=self.other).status_code)
        # a project that is no member sees nothing at all
        self.assertEqual(404, self.get('/v2/images/%s/members' % self.image['id'],
                                       project='stranger').status_code)

    def test_only_the_member_sets_its_status(self):
        self.add(self.other)
        self.set_status('accepted', expect=403, project=self.project)
        self.set_status('maybe', expect=400)
        self.set_status('accepted', member='nobody', project='nobody', expect=404)
        resp = self.session.put(self.members_url + '/' + self.other, data=b'{',
                                headers=self.headers(self.other))
        self.assertEqual(400, resp.status_code)

    def test_only_the_owner_adds_and_removes(self):
        self.add(self.other)
        self.add('third', expect=403, project=self.other)
        resp = self.session.delete(self.members_url + '/' + self.other,
                                   headers=self.headers(self.other))
        self.assertEqual(403, resp.status_code)
        resp = self.session.delete(self.members_url + '/' + self.other,
                                   headers=self.headers())
        self.assertEqual(204, resp.status_code)
        self.assertEqual(404, self.get('/v2/images/%s' % self.image['id'],
                                       project=self.other).status_code)
        resp = self.session.delete(self.members_url + '/' + self.other,
                                   headers=self.headers())
        self.assertEqual(404, resp.status_code)

    def test_bad_requests(self):
        self.add(self.other)
        self.add(self.other, expect=409)
        for body in ({}, {'member': 5}, {'member': ''}, ['x']):
            resp = self.session.post(self.members_url, json=body, headers=self.headers())
            self.assertEqual(400, resp.status_code, body)
        private = self.create(visibility='private')
        resp = self.session.post(self.url('/v2/images/%s/members' % private['id']),
                                 json={'member': self.other}, headers=self.headers())
        self.assertEqual(403, resp.status_code)
        self.assertIn('shared', resp.text)
        resp = self.session.post(self.url('/v2/images/%s/members' % uuid.uuid4()),
                                 json={'member': self.other}, headers=self.headers())
        self.assertEqual(404, resp.status_code)

    def test_member_quota(self):
        for n in range(3):
            self.add('m%d' % n)
        resp = self.add('m3', expect=413)
        self.assertIn('members', resp.text)

    def test_member_schemas(self):
        self.assertEqual('member', self.get('/v2/schemas/member').json()['name'])
        self.assertEqual('members', self.get('/v2/schemas/members').json()['name'])
