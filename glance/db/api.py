"""The database API: every query glance runs, as plain functions over oslo.db sessions.

Functions take and return plain dicts (an image dict carries ``properties``, ``tags`` and
``locations``), so nothing above this module holds a live ORM object or session. One call is
one short transaction. On SQLite, the embedded default, writers take the write lock when they
begin (``BEGIN IMMEDIATE``), wait for it up to ``sqlite_busy_timeout``, and are retried when
the database is still locked, so several workers and background jobs can write at once.
"""

import contextlib
import sqlite3
import threading
import weakref

from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db import options as db_options
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import utils as sqlalchemyutils
from oslo_log import log as logging
from oslo_serialization import jsonutils
import sqlalchemy as sa

from glance.common import exception
from glance.db import image_list
from glance.db import models

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

db_opts = [
    cfg.IntOpt('sqlite_busy_timeout', default=30000, min=0,
               help='On SQLite, milliseconds a transaction waits for another process\'s '
                    'write lock before it gives up and is retried.'),
    cfg.IntOpt('sqlite_pool_size', default=16, min=1,
               help='On SQLite, connections each process keeps open (and twice as many more '
                    'under load).'),
    cfg.IntOpt('image_list_default_page_size', default=25, min=1,
               deprecated_name='limit_param_default', deprecated_group='DEFAULT',
               help='Images returned by a list call that gives no limit.'),
]
CONF.register_opts(db_opts, group='database')
db_options.set_defaults(CONF, connection='sqlite:///$state_path/glance.sqlite')


def _pool_sqlite(engine):
    """Keep SQLite connections open between requests (oslo.db gives file databases NullPool).

    Opening a connection and setting its pragmas cost more than the query itself for a
    simple read. The pool is per process (dispose() after a fork) and green-thread safe.
    """
    if not isinstance(engine.pool, sa.pool.NullPool):
        return
    cargs, cparams = engine.dialect.create_connect_args(engine.url)

    def connect():
        return engine.dialect.connect(*cargs, **cparams)

    pool = sa.pool.QueuePool(connect, pool_size=CONF.database.sqlite_pool_size,
                             max_overflow=CONF.database.sqlite_pool_size * 2, timeout=30,
                             recycle=-1, reset_on_return='rollback')
    sa.event.listen(pool, 'connect', _sqlite_connect)
    engine.pool = pool


def _on_engine_create(engine):
    """Glance's own settings for an engine it creates (never for other engines)."""
    if engine.dialect.name != 'sqlite':
        return
    _engines.add(engine)
    sa.event.listen(engine, 'connect', _sqlite_connect)
    _pool_sqlite(engine)


_main = enginefacade.transaction_context()
_main.append_on_engine_create(_on_engine_create)
_local = threading.local()  # green-thread local once eventlet has patched threading

IMAGE_SORT_KEYS = image_list.SORT_KEYS


def _sqlite_connect(dbapi_conn, record):
    if isinstance(dbapi_conn, sqlite3.Connection):
        # We issue BEGIN ourselves (see _sqlite_begin); WAL lets readers run beside a writer.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute('PRAGMA journal_mode=WAL')
        cur.execute('PRAGMA busy_timeout=%d' % CONF.database.sqlite_busy_timeout)
        cur.execute('PRAGMA foreign_keys=ON')
        cur.close()


@sa.event.listens_for(sa.engine.Engine, 'connect')
def _mysql_connect(dbapi_conn, record):
    """Talk utf8mb4 to MySQL/MariaDB, whatever charset the connection URL names.

    oslo.db asks for "utf8" (three bytes at most, utf8mb3) when the URL names none; the
    tables are utf8mb4, but text beyond the Basic Multilingual Plane (an emoji in an image
    name) sent over a utf8mb3 connection fails with "Incorrect string value", where
    PostgreSQL and SQLite store it.
    """
    set_charset = getattr(dbapi_conn, 'set_character_set', None)
    if set_charset is not None and getattr(dbapi_conn, 'charset', None) in ('utf8', 'utf8mb3'):
        set_charset('utf8mb4')


# Glance's own SQLite engines. The "begin" hook below must run before oslo.db's listener
# on the engine (which would emit a plain BEGIN); only a class-level listener runs first,
# so it is declared on Engine and acts on these engines alone.
_engines = weakref.WeakSet()


@sa.event.listens_for(sa.engine.Engine, 'begin')
def _sqlite_begin(conn):
    if conn.engine in _engines and 'in_transaction' not in conn.info:
        # A deferred transaction that reads then writes fails at once with "database is
        # locked" when another process wrote in between; taking the lock up front waits.
        # (oslo.db's own listener, which would emit a plain BEGIN, sees the marker.)
        conn.exec_driver_sql('BEGIN IMMEDIATE' if getattr(_local, 'writing', False)
                             else 'BEGIN')
        conn.info['in_transaction'] = True


def _is_locked(exc):
    return isinstance(exc, db_exc.DBError) and 'database is locked' in str(exc)


def _retry(fn):
    return oslo_db_api.wrap_db_retry(max_retries=10, retry_interval=0.1,
                                     inc_retry_interval=True, max_retry_interval=2,
                                     retry_on_deadlock=True,
                                     exception_checker=_is_locked)(fn)


@contextlib.contextmanager
def _session(write=False):
    factory = _main.writer if write else _main.reader
    session = factory.get_sessionmaker()()
    _local.writing = write
    try:
        with session.begin():
            yield session
    except (db_exc.DBConnectionError, sa.exc.OperationalError, sa.exc.InterfaceError) as e:
        # The database went away (or is not up yet): a prompt 503, and the pool
        # reconnects by itself once it is back. (SQLite's "database is locked" is an
        # OperationalError too: _retry handles it.)
        if _is_locked(e) or (isinstance(e, sa.exc.DBAPIError)
                             and session.bind is not None
                             and session.bind.dialect.name == 'sqlite'):
            raise
        LOG.error('The database is unavailable: %s', _first_line(e))
        raise exception.ServiceUnavailable(reason='the database is unavailable')
    finally:
        _local.writing = False
        session.close()


def _first_line(error):
    text = str(getattr(error, 'inner_exception', None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def get_engine():
    return _main.writer.get_engine()


def dispose():
    """Drop pooled connections (after a fork, or in tests between databases)."""
    _main.dispose_pool()


def configure(connection=None):
    """Start the engine facade, optionally on another connection URL (tests)."""
    global _main
    if connection is not None:
        _main = enginefacade.transaction_context()
        _main.append_on_engine_create(_on_engine_create)
        _main.configure(connection=connection)


def check_connection():
    """Raise a DBError-derived exception unless the database answers."""
    session = _main.reader.get_sessionmaker()()
    try:
        session.execute(sa.text('SELECT 1'))
    finally:
        session.close()


# What SQLAlchemy raises when [database] connection names a dialect or a Python driver
# that is not installed, or is not a URL at all: configuration mistakes, not bugs.
DRIVER_ERRORS = (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError)


def is_driver_error(error):
    """True if ``error`` says the database URL or its driver is the problem.

    An ImportError of glance's own modules is a bug, not a missing driver.
    """
    if isinstance(error, ImportError):
        return not (getattr(error, 'name', None) or '').startswith('glance')
    return isinstance(error, DRIVER_ERRORS)


def driver_problem(error):
    """One sentence, for an operator, about an error in DRIVER_ERRORS."""
    url = CONF.database.connection or ''
    scheme = url.split(':', 1)[0]
    if isinstance(error, ImportError):
        return ('[database] connection uses "%s", whose Python driver is not installed '
                '(%s): install it where glance runs, or name another driver in the URL '
                '(mysql+pymysql://, postgresql+psycopg2://)' % (scheme, error))
    if isinstance(error, sa.exc.NoSuchModuleError):
        return ('[database] connection uses "%s", which SQLAlchemy does not know: use '
                'sqlite://, mysql+pymysql:// or postgresql+psycopg2://' % scheme)
    return '[database] connection is not a database URL: %s' % str(error).splitlines()[0]


# --- images -------------------------------------------------------------------------------

def _location_dict(loc):
    """A location row (ORM object or result row) as the layers above see it."""
    return {'id': loc.id, 'url': loc.value, 'metadata': jsonutils.loads(loc.meta_data or '{}'),
            'status': loc.status}


def _image_dict(image):
    result = {c.name: getattr(image, c.name) for c in models.Image.__table__.columns}
    result['properties'] = {p.name: p.value for p in image.properties}
    result['tags'] = sorted(t.value for t in image.tags)
    result['locations'] = [_location_dict(loc) for loc in image.locations
                           if loc.status == 'active' and not loc.deleted]
    return result


def _get_image(session, image_id):
    """The live image's ORM object, for the write paths."""
    image = session.query(models.Image).filter_by(id=image_id, deleted=False).first()
    if image is None:
        raise exception.ImageNotFound(image_id=image_id)
    return image


@_retry
def image_create(values):
    """Insert an image with its ``properties`` (dict) and ``tags`` (list)."""
    values = dict(values)
    properties = values.pop('properties', {}) or {}
    tags = values.pop('tags', []) or []
    with _session(write=True) as session:
        image = models.Image(**values)
        image.properties = [models.ImageProperty(name=k, value=v)
                            for k, v in properties.items()]
        image.tags = [models.ImageTag(value=t) for t in dict.fromkeys(tags)]
        session.add(image)
        try:
            session.flush()
        except db_exc.DBDuplicateEntry as e:
            _raise_if_same_names(e)
            raise exception.Duplicate('An image with ID %s already exists.' % values.get('id'))
        return _image_dict(image)


def _raise_if_same_names(error):
    """Conflict for tags or property names the database holds equal though they differ.

    MySQL's default collations compare case- and accent-insensitively and ignore trailing
    spaces, so "a" and "A" collided there on the unique keys, where PostgreSQL and SQLite
    keep both. Migration 2026_4_binary_names makes those columns binary; this answers a
    clear 409 on a database not yet expanded to it.
    """
    if any(c in ('value', 'name') or c.startswith(('uq_image_tags', 'uq_image_prop'))
           for c in error.columns or ()):
        raise exception.Duplicate('Two tags or property names of this image are the same to '
                                  'the database (they differ only in case, accents or '
                                  'trailing spaces).')


_IMAGES = models.Image.__table__
_PROPS = models.ImageProperty.__table__
_TAGS = models.ImageTag.__table__
_LOCS = models.ImageLocation.__table__
_IDS = sa.bindparam('ids', expanding=True)
# Built once: constructing a statement costs more than SQLAlchemy's cached execution of it.
_SELECT_IMAGE = sa.select(_IMAGES).where(_IMAGES.c.id == sa.bindparam('image_id'))
_SELECT_LIVE_IMAGE = _SELECT_IMAGE.where(_IMAGES.c.deleted == sa.false())
_SELECT_PROPS = sa.select(_PROPS.c.image_id, _PROPS.c.name, _PROPS.c.value).where(
    _PROPS.c.image_id.in_(_IDS))
_SELECT_TAGS = sa.select(_TAGS.c.image_id, _TAGS.c.value).where(_TAGS.c.image_id.in_(_IDS))
_SELECT_LOCS = sa.select(_LOCS.c.image_id, _LOCS.c.id, _LOCS.c.value, _LOCS.c.meta_data,
                         _LOCS.c.status).where(
    _LOCS.c.image_id.in_(_IDS), _LOCS.c.status == 'active',
    _LOCS.c.deleted == sa.false()).order_by(_LOCS.c.id)


def _read_images(session, rows):
    """Image dicts for rows of the images table, with properties, tags and locations.

    The read path: plain SELECTs without ORM objects (one per related table), which costs
    a fraction of loading mapped instances and their collections.
    """
    ids = [row['id'] for row in rows]
    props, tags, locations = {}, {}, {}
    if ids:
        for image_id, name, value in session.execute(_SELECT_PROPS, {'ids': ids}):
            props.setdefault(image_id, {})[name] = value
        for image_id, value in session.execute(_SELECT_TAGS, {'ids': ids}):
            tags.setdefault(image_id, []).append(value)
        for row in session.execute(_SELECT_LOCS, {'ids': ids}):
            locations.setdefault(row.image_id, []).append(_location_dict(row))
    result = []
    for row in rows:
        image = dict(row)
        image['properties'] = props.get(row['id'], {})
        image['tags'] = sorted(tags.get(row['id'], []))
        image['locations'] = locations.get(row['id'], [])
        result.append(image)
    return result


def image_row(image_id):
    """The live image's columns alone (no properties, tags or locations), e.g. a marker."""
    with _session() as session:
        row = session.execute(_SELECT_LIVE_IMAGE, {'image_id': image_id}).mappings().first()
        if row is None:
            raise exception.ImageNotFound(image_id=image_id)
        return dict(row)


def image_get(image_id, show_deleted=False):
    query = _SELECT_IMAGE if show_deleted else _SELECT_LIVE_IMAGE
    with _session() as session:
        row = session.execute(query, {'image_id': image_id}).mappings().first()
        if row is None:
            raise exception.ImageNotFound(image_id=image_id)
        return _read_images(session, [row])[0]


@_retry
def image_update(image_id, values, properties=None, tags=None, from_state=None, pieces=None):
    """Update columns; replace all ``properties``/``tags`` when given.

    ``from_state``, when given, is the status the image must still have (compare-and-set
    for status transitions); otherwise Conflict. ``pieces``, a piece map's ``as_values()``,
    is recorded in the same transaction (the hashes of a registered location).
    """
    values = dict(values)
    with _session(write=True) as session:
        if pieces is not None:
            session.execute(sa.delete(_PIECES).where(_PIECES.c.image_id == image_id))
            session.execute(sa.insert(_PIECES).values(image_id=image_id,
                                                      created_at=models.now(), **pieces))
        image = _get_image(session, image_id)
        if from_state is not None and image.status != from_state:
            raise exception.Conflict('Image %s is %s, not %s.'
                                     % (image_id, image.status, from_state))
        for key, value in values.items():
            setattr(image, key, value)
        if properties is not None:
            current = {p.name: p for p in image.properties}
            for name, prop in current.items():
                if name not in properties:
                    image.properties.remove(prop)
                elif prop.value != properties[name]:
                    prop.value = properties[name]
            for name, value in properties.items():
                if name not in current:
                    image.properties.append(models.ImageProperty(name=name, value=value))
        if tags is not None:
            current = {t.value: t for t in image.tags}
            for value, tag in current.items():
                if value not in tags:
                    image.tags.remove(tag)
            for value in dict.fromkeys(tags):
                if value not in current:
                    image.tags.append(models.ImageTag(value=value))
        image.updated_at = models.now()
        try:
            session.flush()
        except db_exc.DBDuplicateEntry as e:
            _raise_if_same_names(e)
            raise
        return _image_dict(image)


@_retry
def image_destroy(image_id, status='deleted'):
    """Mark the image deleted (soft delete) and its locations pending_delete."""
    with _session(write=True) as session:
        image = _get_image(session, image_id)
        now = models.now()
        image.status = status
        image.deleted = True
        image.deleted_at = now
        # The data goes after this commit; until its deletion is confirmed (status
        # "deleted") the location stays pending_delete, for the scrubber to finish.
        for loc in image.locations:
            if loc.status == 'active':
                loc.status = 'pending_delete'
                loc.deleted_at = now
        session.query(models.ImageMember).filter_by(image_id=image_id).delete()
        session.flush()
        return _image_dict(image)


def image_get_all(project_id=None, is_admin=False, filters=None, marker=None, limit=None,
                  sort_keys=None, sort_dirs=None, member_status='accepted'):
    """List images visible to ``project_id`` (all of them for an admin).

    ``filters`` maps a column name to a list of ``(op, value)`` conditions (op in eq, neq,
    gt, gte, lt, lte, in), plus ``tags`` (all must match) and ``properties`` (name to
    value). ``visibility`` as a filter narrows what is visible, as upstream does: community
    images are listed only when asked for. ``marker`` is the image the page starts after:
    its row as ``image_row`` returns it (read once by the caller), or its id. The order and
    how the query uses the indexes: glance.db.image_list.
    """
    keys, dirs = image_list.sort_order(sort_keys, sort_dirs)
    with _session() as session:
        if marker is not None and not isinstance(marker, dict):
            row = session.execute(_SELECT_IMAGE, {'image_id': marker}).mappings().first()
            if row is None:
                raise exception.ImageNotFound(image_id=marker)
            marker = row
        if limit == 0:
            return []
        connection = session.connection()
        filters = dict(filters or {})
        ordering = image_list.ordering_filter(connection, keys, dirs, filters)
        if ordering is not None:
            filters = image_list.without(filters, ordering)
        where = image_list.conditions(project_id, is_admin, filters, member_status,
                                      connection.dialect.name)
        plain = set(filters) <= {'visibility', 'os_hidden'}
        rows = image_list.select_page(connection, where, keys, dirs, marker, limit, plain,
                                      ordering=ordering)
        return _read_images(session, rows)


def image_count(owner):
    """Number of images (not deleted) a project owns, for the image count quota."""
    with _session() as session:
        return session.query(sa.func.count(models.Image.id)).filter_by(
            owner=owner, deleted=False).scalar()


def image_storage_used(owner):
    """Bytes of image data a project stores or is storing, for the storage quota.

    Images being imported count: their data (staged, or at a registered location) is on
    its way into the store.
    """
    with _session() as session:
        return session.query(sa.func.coalesce(sa.func.sum(models.Image.size), 0)).filter(
            models.Image.owner == owner, models.Image.deleted.is_(False),
            models.Image.status.in_(('active', 'saving', 'deactivated',
                                     'importing'))).scalar()


def image_usage(owner, statuses):
    """(number, bytes) of a project's live images in these statuses, for unified limits."""
    with _session() as session:
        count, size = session.query(
            sa.func.count(models.Image.id),
            sa.func.coalesce(sa.func.sum(models.Image.size), 0)).filter(
            models.Image.owner == owner, models.Image.deleted.is_(False),
            models.Image.status.in_(tuple(statuses))).one()
        return count, size


@_retry
def image_activate(image_id, values, location, pieces=None, from_state='saving',
                   properties=None, status='active'):
    """Finish an upload in one transaction: record the location, set the image active.

    ``pieces`` is the piece map to record with it (glance.common.pieces.PieceMap's
    ``as_values()``). ``properties`` (name to value, None to remove) are changed with it
    (an import's os_glance_* bookkeeping). ``status`` is the image's new status: active,
    or importing for a registered location whose data is still being verified.

    Conflict if the image is no longer ``from_state`` (deleted or reset meanwhile). Returns
    the image; its new location is the last of its ``locations``.
    """
    with _session(write=True) as session:
        if pieces is not None:
            session.execute(sa.delete(_PIECES).where(_PIECES.c.image_id == image_id))
            session.execute(sa.insert(_PIECES).values(image_id=image_id,
                                                      created_at=models.now(), **pieces))
        image = _get_image(session, image_id)
        if image.status != from_state:
            raise exception.Conflict('Image %s is %s, not %s.'
                                     % (image_id, image.status, from_state))
        _change_properties(image, properties or {})
        for key, value in values.items():
            setattr(image, key, value)
        image.status = status
        image.upload_holder = None
        image.upload_heartbeat_at = None
        image.updated_at = models.now()
        image.locations.append(models.ImageLocation(
            value=location['url'], meta_data=jsonutils.dumps(location['metadata']),
            status='active'))
        session.flush()
        return _image_dict(image)


def _change_properties(image, changes):
    """Set (or, for a None value, remove) some properties of an ORM image."""
    current = {p.name: p for p in image.properties}
    for name, value in changes.items():
        if value is None:
            if name in current:
                image.properties.remove(current[name])
        elif name in current:
            current[name].value = value
        else:
            image.properties.append(models.ImageProperty(name=name, value=value))


@_retry
def image_change_properties(image_id, changes, values=None, from_state=None, expect=None):
    """Set or remove (value None) some properties, and optionally columns, in one transaction.

    ``from_state`` (a status or a tuple of them) and ``expect`` ({property: value or None
    for absent}) are compare-and-set conditions: Conflict if the image no longer matches
    them. This is how the import lock (``os_glance_import_task``) is taken and released.
    """
    if isinstance(from_state, str):
        from_state = (from_state,)
    with _session(write=True) as session:
        image = _get_image(session, image_id)
        if from_state is not None and image.status not in from_state:
            raise exception.Conflict('Image %s is %s, not %s.'
                                     % (image_id, image.status, ' or '.join(from_state)))
        current = {p.name: p.value for p in image.properties}
        for name, value in (expect or {}).items():
            if current.get(name) != value:
                raise exception.Conflict('Image %s has %s=%s.'
                                         % (image_id, name, current.get(name)))
        for key, value in (values or {}).items():
            setattr(image, key, value)
        _change_properties(image, changes)
        image.updated_at = models.now()
        session.flush()
        return _image_dict(image)


def images_in_status(status):
    """Every image (not deleted) in ``status``, e.g. saving for upload recovery."""
    with _session() as session:
        rows = session.query(models.Image).filter_by(status=status, deleted=False).all()
        return [_image_dict(image) for image in rows]


_PIECES = models.ImagePieces.__table__
_SELECT_PIECES = sa.select(_PIECES).where(_PIECES.c.image_id == sa.bindparam('image_id'))


def image_pieces_get(image_id):
    """The image's piece map as a dict (algo, piece_size, image_size, digests), or None."""
    with _session() as session:
        row = session.execute(_SELECT_PIECES, {'image_id': image_id}).mappings().first()
        return dict(row) if row is not None else None


@_retry
def image_pieces_add(image_id, pieces):
    """Record the piece map of an image that has none (a first full verified read).

    An image's bytes never change while it is active, so a map already recorded is kept.
    Returns True if this call recorded it.
    """
    try:
        with _session(write=True) as session:
            exists = session.execute(_SELECT_PIECES, {'image_id': image_id}).first()
            if exists is not None:
                return False
            session.execute(sa.insert(_PIECES).values(image_id=image_id,
                                                      created_at=models.now(), **pieces))
    except (db_exc.DBDuplicateEntry, db_exc.DBReferenceError):
        return False  # recorded by another reader meanwhile, or the image row is gone
    return True


# --- locations ----------------------------------------------------------------------------

@_retry
def image_location_add(image_id, url, metadata=None, status='active'):
    with _session(write=True) as session:
        _get_image(session, image_id)
        loc = models.ImageLocation(image_id=image_id, value=url, status=status,
                                   meta_data=jsonutils.dumps(metadata or {}))
        session.add(loc)
        session.flush()
        return loc.id


@_retry
def image_location_set_status(location_id, status):
    with _session(write=True) as session:
        loc = session.get(models.ImageLocation, location_id)
        if loc is not None:
            loc.status = status
            loc.deleted = status == 'deleted'
            loc.deleted_at = models.now() if status != 'active' else None


def image_location_users(url, exclude_image_id=None):
    """Ids of the images (deleted or not) with a location on ``url`` whose data may live.

    That is, a location not yet ``deleted``: data pending deletion still belongs to the
    image that had it.
    """
    with _session() as session:
        query = sa.select(_LOCS.c.image_id).where(_LOCS.c.value == url,
                                                  _LOCS.c.status != 'deleted')
        if exclude_image_id is not None:
            query = query.where(_LOCS.c.image_id != exclude_image_id)
        return sorted({row.image_id for row in session.execute(query.distinct())})


@_retry
def image_location_update_metadata(image_id, metadata_by_id):
    """Replace the metadata of some live locations of an image ({location id: metadata})."""
    with _session(write=True) as session:
        image = _get_image(session, image_id)
        for loc in image.locations:
            if loc.id in metadata_by_id and loc.status == 'active':
                loc.meta_data = jsonutils.dumps(metadata_by_id[loc.id])
        image.updated_at = models.now()
        session.flush()
        return _image_dict(image)


@_retry
def image_drop_location(image_id, location_id, from_state, values):
    """Mark one location deleted and change the image's columns, in one transaction.

    The data stays where it is (the caller decides about it). Conflict if the image is
    no longer ``from_state``.
    """
    with _session(write=True) as session:
        image = _get_image(session, image_id)
        if image.status != from_state:
            raise exception.Conflict('Image %s is %s, not %s.'
                                     % (image_id, image.status, from_state))
        now = models.now()
        for loc in image.locations:
            if loc.id == location_id:
                loc.status = 'deleted'
                loc.deleted = True
                loc.deleted_at = now
        for key, value in values.items():
            setattr(image, key, value)
        image.updated_at = now
        session.flush()
        return _image_dict(image)


def image_locations_by_status(status, deleted_before=None):
    """Locations in ``status`` (e.g. pending_delete for the scrubber), with image ids."""
    with _session() as session:
        query = session.query(models.ImageLocation).filter_by(status=status)
        if deleted_before is not None:
            query = query.filter(models.ImageLocation.deleted_at <= deleted_before)
        return [{'id': r.id, 'image_id': r.image_id, 'url': r.value,
                 'metadata': jsonutils.loads(r.meta_data or '{}')} for r in query.all()]


# --- members ------------------------------------------------------------------------------

def _member_dict(member):
    return {c.name: getattr(member, c.name) for c in models.ImageMember.__table__.columns}


@_retry
def image_member_create(image_id, member, status='pending'):
    with _session(write=True) as session:
        row = models.ImageMember(image_id=image_id, member=member, status=status)
        session.add(row)
        try:
            session.flush()
        except db_exc.DBDuplicateEntry:
            raise exception.Duplicate('Member %s is already a member of image %s.'
                                      % (member, image_id))
        return _member_dict(row)


def image_member_find(image_id=None, member=None, status=None):
    with _session() as session:
        query = session.query(models.ImageMember)
        if image_id is not None:
            query = query.filter_by(image_id=image_id)
        if member is not None:
            query = query.filter_by(member=member)
        if status is not None:
            query = query.filter_by(status=status)
        return [_member_dict(m) for m in query.order_by(models.ImageMember.id).all()]


@_retry
def image_member_update(image_id, member, status):
    with _session(write=True) as session:
        row = session.query(models.ImageMember).filter_by(
            image_id=image_id, member=member).first()
        if row is None:
            raise exception.MemberNotFound(image_id=image_id, member_id=member)
        row.status = status
        row.updated_at = models.now()
        session.flush()
        return _member_dict(row)


@_retry
def image_member_delete(image_id, member):
    with _session(write=True) as session:
        count = session.query(models.ImageMember).filter_by(
            image_id=image_id, member=member).delete()
        if not count:
            raise exception.MemberNotFound(image_id=image_id, member_id=member)


# --- tasks --------------------------------------------------------------------------------

_TASK_SORT_KEYS = ('created_at', 'updated_at', 'id', 'type', 'status', 'expires_at')


def _task_dict(task):
    result = {c.name: getattr(task, c.name) for c in models.Task.__table__.columns}
    for name in ('input', 'result'):
        result[name] = jsonutils.loads(result[name]) if result[name] else None
    return result


def _get_task(session, task_id):
    task = session.query(models.Task).filter_by(id=task_id, deleted=False).first()
    if task is None:
        raise exception.TaskNotFound(task_id=task_id)
    return task


@_retry
def task_create(values):
    """Insert a task; ``input`` and ``result`` are JSON-able values."""
    values = dict(values)
    for name in ('input', 'result'):
        if values.get(name) is not None:
            values[name] = jsonutils.dumps(values[name])
    with _session(write=True) as session:
        task = models.Task(**values)
        session.add(task)
        session.flush()
        return _task_dict(task)


def task_get(task_id):
    with _session() as session:
        return _task_dict(_get_task(session, task_id))


@_retry
def task_update(task_id, values, from_status=None, from_holder=None):
    """Update a task's columns; ``from_status`` (one status or a tuple) is compare-and-set.

    Conflict if the task is no longer in ``from_status`` (or, with ``from_holder``, no
    longer held by that runner): another worker (or housekeeping) changed it first.
    """
    values = dict(values)
    for name in ('input', 'result'):
        if name in values and values[name] is not None:
            values[name] = jsonutils.dumps(values[name])
    if isinstance(from_status, str):
        from_status = (from_status,)
    with _session(write=True) as session:
        task = _get_task(session, task_id)
        if from_status is not None and task.status not in from_status:
            raise exception.Conflict('Task %s is %s, not %s.'
                                     % (task_id, task.status, ' or '.join(from_status)))
        if from_holder is not None and task.holder != from_holder:
            raise exception.Conflict('Task %s is no longer run by %s.' % (task_id, from_holder))
        for key, value in values.items():
            setattr(task, key, value)
        task.updated_at = models.now()
        session.flush()
        return _task_dict(task)


def task_get_all(owner=None, filters=None, marker=None, limit=None, sort_key='created_at',
                 sort_dir='desc'):
    """Tasks (not deleted), of ``owner`` unless None (an admin), newest first by default.

    ``filters`` maps ``type`` / ``status`` / ``image_id`` to the value to match.
    """
    if sort_key not in _TASK_SORT_KEYS:
        raise exception.InvalidSortKey(key=sort_key)
    with _session() as session:
        query = session.query(models.Task).filter_by(deleted=False)
        if owner is not None:
            query = query.filter_by(owner=owner)
        for name, value in (filters or {}).items():
            query = query.filter(getattr(models.Task, name) == value)
        marker_task = None
        if marker is not None:
            marker_task = query.filter_by(id=marker).first()
            if marker_task is None:
                raise exception.TaskNotFound(task_id=marker)
        keys, dirs = [sort_key], [sort_dir]
        if sort_key != 'id':
            keys.append('id')
            dirs.append(sort_dir)
        query = sqlalchemyutils.paginate_query(query, models.Task, limit, keys,
                                               marker=marker_task, sort_dirs=dirs)
        return [_task_dict(task) for task in query.all()]


def tasks_in_status(statuses):
    """Every live task in one of ``statuses`` (for housekeeping)."""
    with _session() as session:
        query = session.query(models.Task).filter(models.Task.deleted == sa.false(),
                                                  models.Task.status.in_(statuses))
        return [_task_dict(task) for task in query.all()]


@_retry
def tasks_delete_expired(now):
    """Soft-delete the tasks whose ``expires_at`` has passed; returns how many."""
    with _session(write=True) as session:
        return session.query(models.Task).filter(
            models.Task.deleted == sa.false(), models.Task.expires_at.isnot(None),
            models.Task.expires_at <= now).update(
                {'deleted': True, 'deleted_at': now}, synchronize_session=False)


# --- cache invalidations ------------------------------------------------------------------

@_retry
def cache_invalidation_add(image_id, endpoint):
    with _session(write=True) as session:
        exists = session.query(models.CacheInvalidation).filter_by(
            image_id=image_id, endpoint=endpoint).first()
        if exists is None:
            session.add(models.CacheInvalidation(image_id=image_id, endpoint=endpoint,
                                                 attempts=0))


def cache_invalidations():
    with _session() as session:
        return [{'id': r.id, 'image_id': r.image_id, 'endpoint': r.endpoint,
                 'attempts': r.attempts}
                for r in session.query(models.CacheInvalidation).order_by(
                    models.CacheInvalidation.id).all()]


@_retry
def cache_invalidation_done(invalidation_id, delivered=True):
    with _session(write=True) as session:
        row = session.get(models.CacheInvalidation, invalidation_id)
        if row is None:
            return
        if delivered:
            session.delete(row)
        else:
            row.attempts += 1


def list_opts():
    return [('database', db_opts)]
