"""Queries of the housekeeping: deployment-wide leases, the scrubber, restore, the audit.

Kept beside glance.db.api (whose sessions and retries they use) so the request path's module
stays about requests. Plain dicts in and out, one short transaction per call.
"""

import datetime

from oslo_db import exception as db_exc
from oslo_serialization import jsonutils
import sqlalchemy as sa

from glance.common import exception
from glance.db import api
from glance.db import models

_LEASES = models.Lease.__table__
_IMAGES = models.Image.__table__
_LOCS = models.ImageLocation.__table__
_COUNTERS = models.Counter.__table__


# --- leases ---------------------------------------------------------------------------------

@api._retry
def lease_acquire(name, holder, seconds):
    """Take or renew the lease ``name`` for ``seconds``; True if ``holder`` has it now.

    A lease held by another holder is taken only once it has expired, so a holder that
    died frees it after at most ``seconds``.
    """
    now = models.now()
    expires = now + datetime.timedelta(seconds=seconds)
    try:
        with api._session(write=True) as session:
            session.execute(
                sa.update(_LEASES).where(_LEASES.c.name == name).where(
                    sa.or_(_LEASES.c.holder == holder, _LEASES.c.expires_at < now)).values(
                    holder=holder, expires_at=expires))
            row = session.execute(sa.select(_LEASES.c.holder).where(
                _LEASES.c.name == name)).first()
            if row is None:
                session.execute(sa.insert(_LEASES).values(name=name, holder=holder,
                                                          expires_at=expires))
                return True
            return row.holder == holder
    except db_exc.DBDuplicateEntry:
        return False  # another holder inserted it first


@api._retry
def lease_release(name, holder):
    with api._session(write=True) as session:
        session.execute(sa.delete(_LEASES).where(_LEASES.c.name == name,
                                                 _LEASES.c.holder == holder))


def lease_holder(name):
    """(holder, expires_at) of the lease, or None."""
    with api._session() as session:
        row = session.execute(sa.select(_LEASES.c.holder, _LEASES.c.expires_at).where(
            _LEASES.c.name == name)).first()
        return (row.holder, row.expires_at) if row else None


# --- counters -------------------------------------------------------------------------------

def counters_add(increments):
    """Add each ``{name: n}`` to its deployment-wide counter (created at its first use).

    An UPDATE of ``value = value + n`` first, an INSERT for a counter never seen, all in one
    transaction. Two hosts inserting the same new counter at once meet a duplicate key: the
    loser's transaction is rolled back and tried again, and its INSERT becomes an UPDATE.
    """
    increments = {name: n for name, n in increments.items() if n}
    if not increments:
        return
    try:
        _counters_add(increments)
    except db_exc.DBDuplicateEntry:
        _counters_add(increments)


@api._retry
def _counters_add(increments):
    now = models.now()
    with api._session(write=True) as session:
        for name in sorted(increments):  # one order on every host: no deadlock between them
            result = session.execute(sa.update(_COUNTERS).where(
                _COUNTERS.c.name == name).values(value=_COUNTERS.c.value + increments[name],
                                                 updated_at=now))
            if result.rowcount == 0:
                session.execute(sa.insert(_COUNTERS).values(name=name, updated_at=now,
                                                            value=increments[name]))


def counters():
    """{name: (value, updated_at)} of every counter."""
    with api._session() as session:
        return {row.name: (row.value, row.updated_at)
                for row in session.execute(sa.select(_COUNTERS.c.name, _COUNTERS.c.value,
                                                     _COUNTERS.c.updated_at))}


# --- scrubber and restore -------------------------------------------------------------------

@api._retry
def location_claim(location_id, from_status='pending_delete'):
    """Compare-and-set a location ``from_status`` -> ``deleting``; True if this call did."""
    with api._session(write=True) as session:
        result = session.execute(sa.update(_LOCS).where(
            _LOCS.c.id == location_id, _LOCS.c.status == from_status).values(
            status='deleting'))
        return result.rowcount == 1


@api._retry
def location_unclaim(location_id):
    """A claimed location whose delete failed goes back to pending_delete.

    It is retried next sweep; its deleted_at, which scrub_time counts from, is kept.
    """
    with api._session(write=True) as session:
        session.execute(sa.update(_LOCS).where(
            _LOCS.c.id == location_id, _LOCS.c.status == 'deleting').values(
            status='pending_delete'))


@api._retry
def images_finish_delete():
    """Images in pending_delete with no location left to delete become ``deleted``.

    Returns their ids.
    """
    pending = sa.select(_LOCS.c.id).where(
        _LOCS.c.image_id == _IMAGES.c.id,
        _LOCS.c.status.in_(('pending_delete', 'deleting')))
    with api._session(write=True) as session:
        # (a pending_delete image is always a deleted one: with "deleted" the status index
        # (deleted, status, ...) finds them, where "status" alone scanned every image)
        ids = [r.id for r in session.execute(sa.select(_IMAGES.c.id).where(
            _IMAGES.c.deleted == sa.true(), _IMAGES.c.status == 'pending_delete',
            ~pending.exists()))]
        if ids:
            session.execute(sa.update(_IMAGES).where(
                _IMAGES.c.id.in_(ids), _IMAGES.c.status == 'pending_delete').values(
                status='deleted'))
        return ids


@api._retry
def image_restore(image_id):
    """Bring a pending_delete image back to active, with the locations not yet scrubbed.

    Conditional updates, so a scrubber claiming a location at the same moment either wins
    it (that location stays deleted) or loses it (it is restored). ImageNotFound if there
    is no such image; Conflict if it is not pending_delete or its data is already gone.
    """
    now = models.now()
    with api._session(write=True) as session:
        row = session.execute(sa.select(_IMAGES.c.status).where(
            _IMAGES.c.id == image_id)).first()
        if row is None:
            raise exception.ImageNotFound(image_id=image_id)
        if row.status != 'pending_delete':
            raise exception.Conflict('Image %s is %s, not pending_delete: only an image '
                                     'whose data waits for the scrubber can be restored.'
                                     % (image_id, row.status))
        restored = session.execute(sa.update(_LOCS).where(
            _LOCS.c.image_id == image_id, _LOCS.c.status == 'pending_delete').values(
            status='active', deleted=False, deleted_at=None)).rowcount
        if not restored:
            raise exception.Conflict('The data of image %s is already scrubbed.' % image_id)
        result = session.execute(sa.update(_IMAGES).where(
            _IMAGES.c.id == image_id, _IMAGES.c.status == 'pending_delete').values(
            status='active', deleted=False, deleted_at=None, updated_at=now))
        if result.rowcount != 1:
            raise exception.Conflict('Image %s changed while it was restored.' % image_id)
    return api.image_get(image_id)


# --- audit ----------------------------------------------------------------------------------

def audit_images(since=None):
    """Every image row the audit compares with the stores, deleted ones included.

    Yields dicts: id, status, deleted, size, checksum, os_hash_algo, os_hash_value,
    created_at, updated_at, deleted_at, upload_store, and ``locations`` (every location,
    any status: id, url, metadata, status). Read in pages, so memory stays bounded however
    many images.
    """
    columns = [_IMAGES.c.id, _IMAGES.c.status, _IMAGES.c.deleted, _IMAGES.c.size,
               _IMAGES.c.checksum, _IMAGES.c.os_hash_algo, _IMAGES.c.os_hash_value,
               _IMAGES.c.created_at, _IMAGES.c.updated_at, _IMAGES.c.deleted_at,
               _IMAGES.c.upload_store]
    marker = ''
    for _ in range(10 ** 7):
        query = sa.select(*columns).where(_IMAGES.c.id > marker).order_by(
            _IMAGES.c.id).limit(1000)
        if since is not None:
            query = query.where(sa.or_(_IMAGES.c.updated_at >= since,
                                       _IMAGES.c.created_at >= since))
        with api._session() as session:
            rows = [dict(r) for r in session.execute(query).mappings()]
            if not rows:
                return
            locs = {}
            for r in session.execute(sa.select(
                    _LOCS.c.image_id, _LOCS.c.id, _LOCS.c.value, _LOCS.c.meta_data,
                    _LOCS.c.status).where(_LOCS.c.image_id.in_([r['id'] for r in rows]))
                    .order_by(_LOCS.c.id)):
                locs.setdefault(r.image_id, []).append(
                    {'id': r.id, 'url': r.value, 'status': r.status,
                     'metadata': jsonutils.loads(r.meta_data or '{}')})
        for row in rows:
            row['locations'] = locs.get(row['id'], [])
            yield row
        marker = rows[-1]['id']


def referenced_objects():
    """{store: set of object names} of every location not yet deleted (any image state)."""
    refs = {}
    with api._session() as session:
        for r in session.execute(sa.select(_LOCS.c.value, _LOCS.c.meta_data).where(
                _LOCS.c.status != 'deleted')):
            store = jsonutils.loads(r.meta_data or '{}').get('store')
            name = r.value.split('?', 1)[0].rstrip('/').rsplit('/', 1)[-1]
            refs.setdefault(store, set()).add(name)
    return refs


def image_states(ids):
    """{id: (status, deleted)} for these ids (missing ids are unknown images)."""
    states = {}
    ids = list(ids)
    with api._session() as session:
        for start in range(0, len(ids), 500):
            for r in session.execute(sa.select(_IMAGES.c.id, _IMAGES.c.status,
                                               _IMAGES.c.deleted).where(
                    _IMAGES.c.id.in_(ids[start:start + 500]))):
                states[r.id] = (r.status, r.deleted)
    return states


@api._retry
def image_kill(image_id, from_state):
    """Mark an image whose data is gone or broken ``killed`` (compare-and-set).

    Its locations stay as they are: what is left of its data is still referenced, so no
    repair deletes it; deleting the image does.
    """
    with api._session(write=True) as session:
        result = session.execute(sa.update(_IMAGES).where(
            _IMAGES.c.id == image_id, _IMAGES.c.status == from_state).values(
            status='killed', updated_at=models.now()))
        if result.rowcount != 1:
            raise exception.Conflict('Image %s is no longer %s.' % (image_id, from_state))


@api._retry
def location_drop(location_id):
    """Mark one dead location of an image deleted (its data is gone from the store)."""
    with api._session(write=True) as session:
        session.execute(sa.update(_LOCS).where(_LOCS.c.id == location_id).values(
            status='deleted', deleted=True, deleted_at=models.now()))
