"""The validation data a caller gives with a location: its form, before any store is asked."""

import hashlib

import testtools

from glance.common import exception
from glance.image import location_changes


class TestValidationData(testtools.TestCase):

    def test_accepted(self):
        sha256 = hashlib.sha256(b'x').hexdigest()
        self.assertEqual({}, location_changes.validation_data(None, with_checksum=False))
        self.assertEqual({}, location_changes.validation_data({}, with_checksum=False))
        given = {'os_hash_algo': 'sha256', 'os_hash_value': sha256}
        self.assertEqual(given, location_changes.validation_data(given, with_checksum=False))
        given = dict(given, checksum=hashlib.md5(b'x').hexdigest())
        self.assertEqual(given, location_changes.validation_data(given, with_checksum=True))

    def test_refused(self):
        sha512 = hashlib.sha512(b'x').hexdigest()
        for value, with_checksum, phrase in (
                ('sha512', False, 'JSON object'),
                ({'os_hash_value': sha512}, False, 'both'),
                ({'os_hash_algo': 'sha512'}, False, 'both'),
                ({'os_hash_algo': 'sha123', 'os_hash_value': sha512}, False, 'one of'),
                ({'os_hash_algo': 'md5', 'os_hash_value': '0' * 32}, False, 'one of'),
                ({'os_hash_algo': 'sha1', 'os_hash_value': '0' * 40}, False, 'one of'),
                ({'os_hash_algo': 'sha512', 'os_hash_value': sha512[:64]}, False, '128'),
                ({'os_hash_algo': 'sha512', 'os_hash_value': sha512.upper()}, False,
                 'lowercase'),
                ({'os_hash_algo': 'sha512', 'os_hash_value': 12}, False, '128'),
                ({'checksum': '0' * 32}, False, 'not checksum'),
                ({'checksum': 'x' * 32}, True, '32'),
                ({'size': 1}, True, 'not size')):
            error = self.assertRaises(exception.BadRequest, location_changes.validation_data,
                                      value, with_checksum=with_checksum)
            self.assertIn(phrase, str(error), value)
