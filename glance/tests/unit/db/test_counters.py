"""The housekeeping's deployment-wide counters, on SQLite, PostgreSQL and MariaDB."""

import threading

from glance.db import housekeeping as housekeeping_db
from glance.image import housekeeping_metrics
from glance.tests.unit.db import base


@base.on_every_engine
class TestCounters(base.DbTestCase):

    def test_created_at_first_use_then_added_to(self):
        housekeeping_db.counters_add({'scrubber_runs': 1, 'scrubber_failures': 0})
        housekeeping_db.counters_add({'scrubber_runs': 2, 'recovered_uploads': 5 * 2 ** 33})
        got = housekeeping_db.counters()
        self.assertEqual({'scrubber_runs', 'recovered_uploads'}, set(got))  # 0 adds nothing
        self.assertEqual(3, got['scrubber_runs'][0])
        self.assertEqual(5 * 2 ** 33, got['recovered_uploads'][0])  # a BigInteger

    def test_hosts_adding_at_once_lose_nothing(self):
        # Each thread is a host: the first use of a counter races to INSERT it.
        errors = []

        def host():
            try:
                for _ in range(10):
                    housekeeping_db.counters_add({'audit_runs': 1, 'audit_repairs': 2})
            except Exception as e:  # reported below, with the engine's word for it
                errors.append(e)
        threads = [threading.Thread(target=host) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual([], errors)
        got = housekeeping_db.counters()
        self.assertEqual((40, 80), (got['audit_runs'][0], got['audit_repairs'][0]))

    def test_read_names_every_counter_and_refuses_unknown_ones(self):
        housekeeping_metrics.add(audit_drift_orphan=2)
        values = housekeeping_metrics.read()
        self.assertEqual(set(housekeeping_metrics.COUNTERS), set(values['counters']))
        self.assertEqual(2, values['counters']['audit_drift_orphan'])
        self.assertEqual(0, values['counters']['scrubber_runs'])
        self.assertEqual(['audit_drift_orphan'], list(values['updated_at']))
        self.assertRaises(ValueError, housekeeping_metrics.add, no_such_counter=1)
