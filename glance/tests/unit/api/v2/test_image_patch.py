"""JSON-patch parsing: the one-level paths, and the deeper ones only locations have."""

import testtools

from glance.api.v2 import image_patch
from glance.common import exception

V21 = image_patch.MEDIA_TYPES[0]
V20 = image_patch.MEDIA_TYPES[1]


class TestLocationPaths(testtools.TestCase):

    def parse(self, *ops, media_type=V21):
        return image_patch.parse(list(ops), media_type)

    def test_add_at_the_end_or_a_position_remove_a_position_replace_the_list(self):
        value = {'url': 'file:///x', 'metadata': {}}
        self.assertEqual(
            [{'op': 'add', 'name': 'locations', 'index': '-', 'value': value},
             {'op': 'add', 'name': 'locations', 'index': 3, 'value': value},
             {'op': 'remove', 'name': 'locations', 'index': 0},
             {'op': 'replace', 'name': 'locations', 'index': None, 'value': [value]},
             {'op': 'replace', 'name': 'name', 'value': 'n'}],
            self.parse({'op': 'add', 'path': '/locations/-', 'value': value},
                       {'op': 'add', 'path': '/locations/3', 'value': value},
                       {'op': 'remove', 'path': '/locations/0'},
                       {'op': 'replace', 'path': '/locations', 'value': [value]},
                       {'op': 'replace', 'path': '/name', 'value': 'n'}))
        # the older media type, as glanceclient's location-add sends it
        self.assertEqual([{'op': 'add', 'name': 'locations', 'index': '-', 'value': value}],
                         self.parse({'add': '/locations/-', 'value': value},
                                    media_type=V20))

    def test_malformed_location_paths(self):
        for op in ({'op': 'add', 'path': '/locations', 'value': {}},
                   {'op': 'remove', 'path': '/locations'},
                   {'op': 'replace', 'path': '/locations/0', 'value': {}},
                   {'op': 'remove', 'path': '/locations/-1'},
                   {'op': 'remove', 'path': '/locations/01'},
                   {'op': 'remove', 'path': '/locations/x'},
                   {'op': 'remove', 'path': '/locations/0/url'},
                   {'op': 'replace', 'path': '/name/x', 'value': 'n'}):
            self.assertRaises(exception.InvalidJsonPatchPath, self.parse, op)

    def test_split_and_apply_leave_locations_to_their_service(self):
        changes = self.parse({'op': 'replace', 'path': '/name', 'value': 'n'},
                             {'op': 'remove', 'path': '/locations/1'})
        locations, others = image_patch.split(changes)
        self.assertEqual((['locations'], ['name']), ([c['name'] for c in locations],
                                                     [c['name'] for c in others]))
        self.assertEqual({'id': 'i', 'name': 'n'},
                         image_patch.apply({'id': 'i', 'name': 'old'}, changes))
