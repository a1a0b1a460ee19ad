"""Rendezvous hashing: stable owners, and only a dead node's images move."""

import uuid

import testtools

from glance.common import stream_nodes as nodes


class TestRank(testtools.TestCase):

    def test_stable_and_spread(self):
        endpoints = ['http://s%d:9293' % i for i in range(4)]
        owners = {}
        for _ in range(400):
            image_id = str(uuid.uuid4())
            owner = nodes.rank(image_id, endpoints)[0]
            self.assertEqual(owner, nodes.rank(image_id, list(reversed(endpoints)))[0])
            owners[image_id] = owner
        counts = [list(owners.values()).count(e) for e in endpoints]
        self.assertTrue(min(counts) > 50, counts)

    def test_removing_a_node_moves_only_its_images(self):
        endpoints = ['http://s%d:9293' % i for i in range(4)]
        ids = [str(uuid.uuid4()) for _ in range(200)]
        before = {i: nodes.rank(i, endpoints)[0] for i in ids}
        survivors = endpoints[1:]
        for image_id in ids:
            after = nodes.rank(image_id, survivors)[0]
            if before[image_id] != endpoints[0]:
                self.assertEqual(before[image_id], after)
