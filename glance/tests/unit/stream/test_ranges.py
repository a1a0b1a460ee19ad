"""Range header parsing: RFC 9110 single ranges, suffixes, and what is not satisfiable."""

import testtools

from glance.common import exception
from glance.stream import ranges


class TestRanges(testtools.TestCase):

    def test_ranges(self):
        self.assertIsNone(ranges.parse(None, 100))
        self.assertEqual((0, 0), ranges.parse('bytes=0-0', 100))
        self.assertEqual((10, 99), ranges.parse('bytes=10-', 100))
        self.assertEqual((10, 99), ranges.parse('bytes=10-500', 100))
        self.assertEqual((95, 99), ranges.parse('bytes=-5', 100))
        self.assertEqual((0, 99), ranges.parse('bytes=-500', 100))
        self.assertEqual((99, 99), ranges.parse('bytes = 99 - 99', 100))

    def test_ignored(self):
        for header in ('bytes=0-1,5-6', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes'):
            self.assertIsNone(ranges.parse(header, 100), header)

    def test_unsatisfiable(self):
        for header, size in (('bytes=100-', 100), ('bytes=5-4', 100), ('bytes=-0', 100),
                             ('bytes=0-0', 0), ('bytes=-1', 0)):
            self.assertRaises(exception.RangeNotSatisfiable, ranges.parse, header, size)

    def test_content_range(self):
        self.assertEqual('bytes 0-9/100', ranges.content_range(0, 9, 100))
