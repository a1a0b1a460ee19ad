"""Pieces of glance-manage audit that need no server: the rate bound, --since, progress."""

import datetime
import io
import time

import testtools

from glance.cmd import manage
from glance.image import audit


class TestAuditHelpers(testtools.TestCase):

    def test_rate_bounds_calls_per_second(self):
        rate = audit._Rate(50)
        started = time.monotonic()
        for _ in range(11):
            rate.wait()
        # 11 calls at 50/s: the 11th no sooner than 10 intervals (0.2 s) after the first
        self.assertGreaterEqual(time.monotonic() - started, 0.19)

    def test_no_rate_does_not_wait(self):
        rate = audit._Rate(None)
        started = time.monotonic()
        for _ in range(1000):
            rate.wait()
        self.assertLess(time.monotonic() - started, 0.1)

    def test_since_relative_and_absolute(self):
        ago = datetime.datetime.utcnow() - manage._since('12h')
        self.assertTrue(abs(ago - datetime.timedelta(hours=12)) < datetime.timedelta(
            seconds=5), ago)
        self.assertEqual(datetime.datetime(2026, 1, 2, 3, 4),
                         manage._since('2026-01-02T03:04'))
        self.assertEqual(datetime.datetime(2026, 1, 2, 2, 4),
                         manage._since('2026-01-02T03:04+01:00'))
        self.assertRaises(ValueError, manage._since, 'yesterday')

    def test_plain_progress_lines_without_a_terminal(self):
        out = io.StringIO()
        progress = audit._Progress(out, 'images', every=2)
        for _ in range(5):
            progress.update()
        progress.close()
        self.assertEqual(['images: 2 checked', 'images: 4 checked',
                          'images: 5 checked, done'], out.getvalue().splitlines())
