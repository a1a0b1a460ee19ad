"""What the housekeeping did, counted for the whole deployment.

The scrubber, crash recovery (glance.image.recovery) and ``glance-manage audit``
(glance.image.audit) run on whichever host holds their lease, or wherever an operator
typed the command; their counters are kept in the database (the ``counters`` table), so
any glance-api answers ``GET /v2/housekeeping/metrics`` and ``glance-manage metrics``
with the sum over every host and restart. Each counter only grows: a monitoring system
takes rates from it, as from the cache counters of ``GET /v2/cache/metrics``.

Counting never fails the work it counts: a database that refuses is logged, and those
increments are lost (the work itself is logged at INFO with its image ids regardless).
"""

from oslo_log import log as logging

from glance.db import housekeeping as housekeeping_db

LOG = logging.getLogger(__name__)

# name -> what it counts (the admin guide's table is this one)
COUNTERS = {
    'scrubber_runs': 'scrubber sweeps that held the deployment\'s scrubber lease',
    'scrubber_locations_deleted': 'locations whose data the scrubber deleted',
    'scrubber_failures': 'location deletes a store refused (each retried later)',
    'scrubber_images_deleted': 'images that went from pending_delete to deleted',
    'recovered_uploads': 'uploads whose writer died: partial data removed, image queued',
    'recovered_stages': 'stages whose writer died: staged data removed, image queued',
    'recovered_tasks': 'tasks whose worker died: failed (their import undone) or resumed',
    'expired_tasks': 'tasks deleted past their expires_at',
    'staged_files_removed': 'staged files that no import would use, removed',
    'audit_runs': 'glance-manage audit runs',
    'audit_drift_missing': 'audit findings: an image\'s object gone from a store',
    'audit_drift_size': 'audit findings: an object of the wrong size',
    'audit_drift_hash': 'audit findings: bytes that do not match the image\'s hash',
    'audit_drift_orphan': 'audit findings: an object no image references',
    'audit_drift_stale_cache': 'audit findings: a cache entry of a gone or inactive image',
    'audit_drift_stuck': 'audit findings: an image stuck in saving, importing or '
                         'pending_delete',
    'audit_repairs': 'repairs glance-manage audit --repair --yes did',
    'audit_repair_failures': 'repairs that failed or were skipped',
}


def add(**increments):
    """Add to the named counters (names from COUNTERS); a database failure is only logged."""
    unknown = set(increments) - set(COUNTERS)
    if unknown:
        raise ValueError('Unknown housekeeping counters: %s' % ', '.join(sorted(unknown)))
    try:
        housekeeping_db.counters_add(increments)
    except Exception as e:
        LOG.warning('Could not record the housekeeping counters %s (%s)',
                    ', '.join('%s+%d' % item for item in sorted(increments.items()) if item[1]),
                    type(e).__name__)


def read():
    """{'counters': {name: value}, 'updated_at': {name: ISO time}} with every known name."""
    stored = housekeeping_db.counters()
    return {
        'counters': {name: stored.get(name, (0, None))[0] for name in COUNTERS},
        'updated_at': {name: stored[name][1].isoformat() for name in COUNTERS
                       if name in stored and stored[name][1] is not None},
    }
