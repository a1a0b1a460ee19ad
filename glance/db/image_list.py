"""The image list query: filters planned from their indexes, and keyset pagination.

A page after a marker is found by a keyset bound, ``(sort_key, created_at, id) > marker's``,
which an index on ``(deleted, sort_key, created_at, id)`` serves: a deep page costs what the
first one costs, and paging through the whole catalogue is linear. Every sort key the API
allows has such an index (migration ``2026_6_list_indexes``), and the same index
serves an equality filter on that column in the default order.

The order is the same on every engine: ``sort_key`` then ``created_at`` then ``id``, the two
tie-breakers in the first key's direction, and a NULL sorts before every value (first when
ascending, last when descending), as SQLite and MariaDB put it and PostgreSQL does not. So
that an index serves a nullable key on PostgreSQL too, its NULL rows and its other rows are
read as two segments, one after the other, each in index order.

Sorts an index cannot serve (several keys, mixed directions, a nullable key after the first)
are still exact and alike on every engine, with the bound written out term by term; they
sort what they select.

Tag, property and membership filters are ``id IN (subquery)`` on indexes that start with
the value asked for (``image_tags(value, ...)``, ``image_properties(name, value, ...)``,
``image_members(member, status, image_id)``), so the planner may start from the few images
that carry a rare tag rather than walk the catalogue in date order.

A tag or property filter in the default order (``created_at`` then ``id``, either
direction) does better: each tag and property row carries its image's ``created_at``
(migration 2026_9_filter_order), and the query joins the images to the rows of one of the
tags (or property values) asked for and follows ``image_tags(value, image_created_at,
image_id)`` (or ``image_properties(name, value, image_created_at, image_id)``), which yields
those images already in the list's order: the database reads a page's worth of them (more
if the caller may see few of them), not every image that matches.
"""

import time
import weakref

import sqlalchemy as sa

from glance.common import exception
from glance.db import models

IMAGES = models.Image.__table__
_PROPS = models.ImageProperty.__table__
_TAGS = models.ImageTag.__table__
_MEMBERS = models.ImageMember.__table__

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size', 'id',
             'created_at', 'updated_at', 'visibility', 'owner', 'min_disk', 'min_ram',
             'virtual_size', 'protected', 'os_hidden')

_OPS = {
    'eq': lambda col, v: col == v,
    'neq': lambda col, v: col != v,
    'gt': lambda col, v: col > v,
    'gte': lambda col, v: col >= v,
    'lt': lambda col, v: col < v,
    'lte': lambda col, v: col <= v,
    'in': lambda col, v: col.in_(v),
}


def sort_order(sort_keys=None, sort_dirs=None):
    """The full order (keys, dirs): the caller's keys, then created_at and id as tie-breakers.

    Keys after ``id`` are dropped: ``id`` is unique, nothing after it can change the order.
    """
    keys = list(sort_keys or ['created_at'])
    dirs = list(sort_dirs or ['desc'] * len(keys))
    dirs += [dirs[0]] * (len(keys) - len(dirs))
    for key in keys:
        if key not in SORT_KEYS:
            raise exception.InvalidSortKey(key=key)
    for key in ('created_at', 'id'):
        if key not in keys:
            keys.append(key)
            dirs.append(dirs[0])
    cut = keys.index('id') + 1
    return keys[:cut], dirs[:cut]


def _is_member(project_id, member_status, dialect):
    """The image is shared with the project: a correlated EXISTS.

    One probe of the (image_id, member) key per shared image the scan meets. Not ``id IN
    (members of the project)``, and on PostgreSQL fenced with ``OFFSET 0``: otherwise
    PostgreSQL hashes every membership of the project (which grows with the catalogue) on
    each call, and in a tag filter's inner loop charges that hash to every probe, which
    turns 100 index probes into a scan of every image.
    """
    match = [_MEMBERS.c.image_id == IMAGES.c.id, _MEMBERS.c.member == project_id]
    if member_status != 'all':
        match.append(_MEMBERS.c.status == member_status)
    probe = sa.select(sa.literal(1)).where(*match)
    if dialect == 'postgresql':
        probe = probe.offset(0)
    return probe.exists()


def _visible_to(project_id, member_status, dialect):
    """Images a project may list: its own, public, and shared ones it is a member of."""
    return sa.or_(IMAGES.c.owner == project_id,
                  IMAGES.c.visibility == 'public',
                  sa.and_(IMAGES.c.visibility == 'shared',
                          _is_member(project_id, member_status, dialect)))


# The characters of a property value PostgreSQL indexes (migration 2026_6_list_indexes).
_PROPERTY_VALUE_PREFIX = 255


def _property_is(name, value, dialect):
    return sa.select(_PROPS.c.image_id).where(*_property_match(name, value, dialect))


def _property_match(name, value, dialect):
    """The conditions on an image_properties row for ``name`` = ``value``."""
    match = [_PROPS.c.name == name]
    if dialect == 'postgresql':
        # The expression PostgreSQL's index holds, so the planner can use it. For a value
        # shorter than the prefix it is the whole comparison (a longer stored value has a
        # prefix as long as the prefix); a second condition on the same value would make
        # the planner think the match 30 times rarer than it is.
        match.append(sa.func.substr(_PROPS.c.value, 1, _PROPERTY_VALUE_PREFIX)
                     == value[:_PROPERTY_VALUE_PREFIX])
        if len(value) >= _PROPERTY_VALUE_PREFIX:
            match.append(_PROPS.c.value == value)
    else:
        match.append(_PROPS.c.value == value)
    return match


def conditions(project_id, is_admin, filters, member_status, dialect):
    """The WHERE conditions of a list call (see db.api.image_get_all for ``filters``)."""
    filters = dict(filters or {})
    where = [IMAGES.c.deleted == sa.false()]
    visibility = filters.pop('visibility', None)
    if visibility is not None:
        where.append(IMAGES.c.visibility == visibility)
        if visibility == 'shared' and not is_admin:
            where.append(_is_member(project_id, member_status, dialect))
        elif visibility == 'private' and not is_admin:
            where.append(IMAGES.c.owner == project_id)
    elif not is_admin:
        where.append(_visible_to(project_id, member_status, dialect))
    for tag in filters.pop('tags', []) or []:
        where.append(IMAGES.c.id.in_(sa.select(_TAGS.c.image_id).where(_TAGS.c.value == tag)))
    for name, value in (filters.pop('properties', {}) or {}).items():
        where.append(IMAGES.c.id.in_(_property_is(name, value, dialect)))
    for column, conds in filters.items():
        col = IMAGES.c[column]
        for op, value in conds:
            where.append(_OPS[op](col, value))
    return where


def _nullable(key):
    return IMAGES.c[key].nullable


def _value(marker, key):
    """The marker's value of ``key`` as a bound parameter (None stays None)."""
    value = marker[key]
    return None if value is None else sa.bindparam(None, value, type_=IMAGES.c[key].type)


def _after(cols, values, desc, dialect):
    """Rows after ``values`` in the order of ``cols`` (all one direction, no NULL value).

    PostgreSQL and SQLite compare row values and use the index for the bound; MariaDB does
    not use an index for a row comparison but does for the same bound written out term by
    term, whose first term (``c1 >= v1``) starts the index range.
    """
    if dialect in ('postgresql', 'sqlite'):
        row, marker = sa.tuple_(*cols), sa.tuple_(*values)
        return row < marker if desc else row > marker
    terms = []
    for i, col in enumerate(cols):
        prior = [cols[j] == values[j] for j in range(i)]
        terms.append(sa.and_(*prior, col < values[i] if desc else col > values[i]))
    first = cols[0] <= values[0] if desc else cols[0] >= values[0]
    return sa.and_(first, sa.or_(*terms))


def _order(cols, desc):
    return [col.desc() if desc else col.asc() for col in cols]


def _segments(keys, dirs, marker, dialect):
    """The (conditions, order_by) queries whose results, one after another, make the list.

    Only for one direction with at most the first key nullable.
    """
    desc = dirs[0] == 'desc'
    cols = [IMAGES.c[k] for k in keys]
    values = None if marker is None else [_value(marker, k) for k in keys]
    if not _nullable(keys[0]):
        bound = [] if values is None else [_after(cols, values, desc, dialect)]
        return [(bound, _order(cols, desc))]
    # A nullable first key: its NULL rows, then its other rows (or the other way round).
    # The NULL rows are ordered by the key too, a constant there: PostgreSQL takes "IS
    # NULL" for no equality, and only with the index's whole order does it read the index
    # in order instead of fetching every NULL row and sorting them.
    nulls = ([cols[0].is_(None)], _order(cols, desc))
    others = ([cols[0].is_not(None)], _order(cols, desc))
    segments = [others, nulls] if desc else [nulls, others]
    if values is None:
        return segments
    if values[0] is None:  # (a bound parameter is never None: only a NULL value is)
        start = segments.index(nulls)
        first = (nulls[0] + [_after(cols[1:], values[1:], desc, dialect)], nulls[1])
    else:
        start = segments.index(others)
        first = (others[0] + [_after(cols, values, desc, dialect)], others[1])
    return [first] + segments[start + 1:]


def _general(keys, dirs, marker):
    """One query for any order: NULL first on ascending keys, last on descending ones."""
    order_by, terms = [], []
    equal_so_far = []
    for key, direction in zip(keys, dirs):
        col, desc = IMAGES.c[key], direction == 'desc'
        if _nullable(key):
            present = col.is_not(None)
            order_by.append(present.desc() if desc else present.asc())
        order_by.append(col.desc() if desc else col.asc())
        if marker is None:
            continue
        value = _value(marker, key)
        if value is None:
            after = None if desc else col.is_not(None)
            equal = col.is_(None)
        else:
            after = sa.or_(col < value, col.is_(None)) if desc else col > value
            equal = col == value
        if after is not None:
            terms.append(sa.and_(*equal_so_far, after))
        equal_so_far.append(equal)
    bound = [] if marker is None else [sa.or_(*terms) if terms else sa.false()]
    return [(bound, order_by)]


def _served(keys, dirs):
    """True if the order's index serves it: one direction, at most the first key nullable."""
    return len(set(dirs)) == 1 and not any(_nullable(k) for k in keys[1:])


def plan(keys, dirs, marker, dialect):
    """The (conditions, order_by) queries for this order and marker row, in order."""
    if _served(keys, dirs):
        return _segments(keys, dirs, marker, dialect)
    return _general(keys, dirs, marker)


_INDEXES = weakref.WeakKeyDictionary()  # engine -> {table: (index names, when read)}
_INDEX_RECHECK = 60  # seconds between looks for an index found missing


def _has_index(connection, table, name):
    """Whether the database has index ``name`` on ``table``; read once per engine and table.

    Code may be newer than the schema: a hint naming an index the database lacks fails the
    query on MariaDB (before ``glance-manage db expand``), and the ordered tag and property
    plans need the rows the step that makes their indexes fills (before ``db contract``).
    A missing index is looked for again at most once a minute, so a running service takes
    it up soon after the migration.
    """
    tables = _INDEXES.setdefault(connection.engine, {})
    names, read_at = tables.get(table, (None, None))
    if names is None or (name not in names
                         and time.monotonic() - read_at >= _INDEX_RECHECK):
        names = {i['name'] for i in sa.inspect(connection).get_indexes(table)}
        tables[table] = names, time.monotonic()
    return name in names


def _order_index(keys):
    """The name of the index whose order is ``keys`` (None for the primary key's)."""
    return None if keys[0] == 'id' else 'ix_images_list_%s' % keys[0]


# The ordered indexes (migration 2026_9_filter_order_contract).
_TAGS_ORDERED = 'ix_image_tags_list'
_PROPS_ORDERED = 'ix_image_properties_list'


def ordering_filter(connection, keys, dirs, filters):
    """The filter whose rows the list follows in date order, or None for the general plan.

    ``('tag', value)`` or ``('property', (name, value))``: the first tag asked for, else the
    first property. Only for the default order (``created_at``, ``id``, one direction),
    which is the order of the ordered indexes within one tag, or one property value.
    """
    if keys != ['created_at', 'id'] or len(set(dirs)) != 1:
        return None
    tags = filters.get('tags') or []
    if tags and _has_index(connection, 'image_tags', _TAGS_ORDERED):
        return 'tag', tags[0]
    properties = filters.get('properties') or {}
    if properties and _has_index(connection, 'image_properties', _PROPS_ORDERED):
        return 'property', next(iter(properties.items()))
    return None


def without(filters, ordering):
    """``filters`` without the one ``ordering_filter`` chose (the join applies it)."""
    filters = dict(filters)
    kind, value = ordering
    if kind == 'tag':
        filters['tags'] = [t for t in filters['tags'] if t != value]
    else:
        filters['properties'] = {k: v for k, v in filters['properties'].items()
                                 if k != value[0]}
    return filters


def _select_ordered(ordering, where, dirs, marker, dialect):
    """The images matching ``ordering``'s filter, in created_at/id order, from its index."""
    kind, value = ordering
    if kind == 'tag':
        table = _TAGS
        match = [_TAGS.c.value == value]
    else:
        table = _PROPS
        match = _property_match(value[0], value[1], dialect)
    desc = dirs[0] == 'desc'
    cols = [table.c.image_created_at, table.c.image_id]
    bound = []
    if marker is not None:
        values = [_value(marker, 'created_at'), _value(marker, 'id')]
        bound.append(_after(cols, values, desc, dialect))
    joined = IMAGES.join(table, sa.and_(table.c.image_id == IMAGES.c.id, *match))
    return sa.select(IMAGES).select_from(joined).where(*where, *bound).order_by(
        *_order(cols, desc))


def select_page(connection, where, keys, dirs, marker, limit, plain=False, ordering=None):
    """The image rows (mappings) of one page, the segments read one after another.

    ``plain``: no filter but visibility (and os_hidden). MariaDB then reads a page after a
    marker from the order's index by ``deleted`` alone and discards every row before the
    marker (its ORDER BY ... LIMIT shortcut prefers that to the range the bound gives), so
    it is told which index to use; with other filters its own choice (a tag's index, say)
    is the better one.

    ``ordering`` (from ``ordering_filter``, and left out of ``where``): read the page by
    following that tag's or property value's rows in date order.
    """
    dialect = connection.dialect.name
    if ordering is not None:
        query = _select_ordered(ordering, where, dirs, marker, dialect)
        if limit is not None:
            query = query.limit(limit)
        return connection.execute(query).mappings().all()
    hint = None
    if (dialect == 'mysql' and plain and marker is not None and _served(keys, dirs)
            and _has_index(connection, 'images', _order_index(keys))):
        hint = 'FORCE INDEX (%s)' % _order_index(keys)
    rows = []
    for bound, order_by in plan(keys, dirs, marker, dialect):
        if limit is not None and len(rows) >= limit:
            break
        query = sa.select(IMAGES).where(*where, *bound).order_by(*order_by)
        if hint:
            query = query.with_hint(IMAGES, hint, 'mysql')
        if limit is not None:
            query = query.limit(limit - len(rows))
        rows.extend(connection.execute(query).mappings().all())
    return rows
