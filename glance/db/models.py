"""SQLAlchemy models of the image catalogue: images and what hangs off them, and tasks.

The schema follows upstream Glance's so operators recognise it, plus what this project needs
of its own (who holds an upload in progress). The alembic migrations in
glance/db/migrations are the source of truth for the schema; these models must match them
(a test compares the two on every engine).
"""

from oslo_db.sqlalchemy import models
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm


class Base(models.ModelBase, orm.DeclarativeBase):
    pass


def now():
    """Now, in whole seconds.

    That is what every engine stores the same way (MySQL's DATETIME has no fraction) and
    what the API shows.
    """
    return timeutils.utcnow().replace(microsecond=0)


BINARY_COLLATION = 'utf8mb4_nopad_bin'


def _binary_string(length=255):
    """A string compared byte for byte on every engine (migration 2026_4_binary_names).

    MySQL's default collations ignore case, accents and trailing spaces; PostgreSQL and
    SQLite do not. (The migration picks MySQL 8's utf8mb4_0900_bin where MariaDB's
    collation does not exist.)
    """
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation=BINARY_COLLATION), 'mysql')


# The image list's indexes (migration 2026_6_list_indexes): name -> columns after
# "deleted". Every sort key but id (the primary key) has one.
LIST_INDEXES = {'ix_images_list_created_at': ('created_at', 'id')}
LIST_INDEXES.update(
    ('ix_images_list_%s' % key, (key, 'created_at', 'id'))
    for key in ('name', 'status', 'container_format', 'disk_format', 'size', 'updated_at',
                'visibility', 'owner', 'min_disk', 'min_ram', 'virtual_size', 'protected',
                'os_hidden'))


class _Timestamps:
    created_at = sa.Column(sa.DateTime, nullable=False, default=now)
    updated_at = sa.Column(sa.DateTime, nullable=True, onupdate=now)
    deleted_at = sa.Column(sa.DateTime, nullable=True)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)


class Image(_Timestamps, Base):
    __tablename__ = 'images'
    # One index per sort key of the list call, (deleted, key, created_at, id): it serves the
    # order, the keyset bound of a page after a marker, and an equality filter on the key
    # (glance.db.image_list).
    __table_args__ = tuple(
        sa.Index(name, 'deleted', *columns) for name, columns in LIST_INDEXES.items()
    ) + (sa.Index('ix_images_os_hash_value', 'os_hash_value'),)

    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(_binary_string())
    disk_format = sa.Column(sa.String(20))
    container_format = sa.Column(sa.String(20))
    size = sa.Column(sa.BigInteger)
    virtual_size = sa.Column(sa.BigInteger)
    status = sa.Column(sa.String(30), nullable=False)
    visibility = sa.Column(sa.String(20), nullable=False, default='shared')
    checksum = sa.Column(sa.String(32))
    os_hash_algo = sa.Column(sa.String(64))
    os_hash_value = sa.Column(sa.String(128))
    min_disk = sa.Column(sa.Integer, nullable=False, default=0)
    min_ram = sa.Column(sa.Integer, nullable=False, default=0)
    owner = sa.Column(_binary_string())
    protected = sa.Column(sa.Boolean, nullable=False, default=False)
    os_hidden = sa.Column(sa.Boolean, nullable=False, default=False)
    # The process that is writing the image's data ("host:pid:boot") and when it last made
    # progress: lets a restarted glance-api find uploads whose writer is gone.
    upload_holder = sa.Column(sa.String(255))
    upload_heartbeat_at = sa.Column(sa.DateTime)
    # The store that upload (or stage, or import) writes to: where recovery looks for
    # partial data if the writer dies.
    upload_store = sa.Column(sa.String(255))

    properties = orm.relationship('ImageProperty', back_populates='image',
                                  cascade='all, delete-orphan', lazy='selectin')
    tags = orm.relationship('ImageTag', back_populates='image',
                            cascade='all, delete-orphan', lazy='selectin')
    locations = orm.relationship('ImageLocation', back_populates='image',
                                 cascade='all, delete-orphan', lazy='selectin',
                                 order_by='ImageLocation.id')


class ImageProperty(Base):
    __tablename__ = 'image_properties'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'name', name='uq_image_properties_image_id_name'),
        # For a property filter, which in the list's default order walks it (glance.db.
        # image_list). A value may be longer than an index entry can be: MariaDB indexes its
        # first 255 characters; PostgreSQL has the index on substr(value, 1, 255) (see the
        # migration 2026_9_filter_order_contract; the list query names that expression too).
        sa.Index('ix_image_properties_list', 'name', 'value', 'image_created_at', 'image_id',
                 mysql_length={'value': 255}),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                         nullable=False)
    name = sa.Column(_binary_string(), nullable=False)
    value = sa.Column(sa.Text().with_variant(mysql.TEXT(collation=BINARY_COLLATION),
                                             'mysql'))
    # The image's created_at, as for tags (set on every insert, below ImageTag).
    image_created_at = sa.Column(sa.DateTime, nullable=True)
    image = orm.relationship(Image, back_populates='properties')


class ImageTag(Base):
    __tablename__ = 'image_tags'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'value', name='uq_image_tags_image_id_value'),
        # For a tag filter, which in the list's default order walks it (glance.db.image_list).
        sa.Index('ix_image_tags_list', 'value', 'image_created_at', 'image_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                         nullable=False)
    value = sa.Column(_binary_string(), nullable=False)
    # The image's created_at, which never changes (migration 2026_9_filter_order; set on
    # every insert, below).
    image_created_at = sa.Column(sa.DateTime, nullable=True)
    image = orm.relationship(Image, back_populates='tags')


@sa.event.listens_for(ImageProperty, 'before_insert')
@sa.event.listens_for(ImageTag, 'before_insert')
def _carry_image_created_at(mapper, connection, row):
    """Every tag and property row inserted carries its image's created_at.

    The ordered list plans (glance.db.image_list) follow this column: a row without it
    would be left out of a filtered list. Set here, on the one path every insert takes.
    """
    if row.image_created_at is None:
        known = row.image.created_at if row.image is not None else None
        row.image_created_at = known if known is not None else (
            sa.select(Image.created_at).where(Image.id == row.image_id).scalar_subquery())


class ImageLocation(_Timestamps, Base):
    __tablename__ = 'image_locations'
    __table_args__ = (
        sa.Index('ix_image_locations_image_id', 'image_id'),
        sa.Index('ix_image_locations_status', 'status'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                         nullable=False)
    value = sa.Column(sa.Text, nullable=False)
    meta_data = sa.Column(sa.Text, nullable=False, default='{}')  # JSON
    # active, pending_delete (data still to be deleted by the scrubber) or deleted
    status = sa.Column(sa.String(30), nullable=False, default='active')
    image = orm.relationship(Image, back_populates='locations')


class ImageMember(_Timestamps, Base):
    __tablename__ = 'image_members'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'member', name='uq_image_members_image_id_member'),
        sa.Index('ix_image_members_member_status', 'member', 'status', 'image_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                         nullable=False)
    member = sa.Column(_binary_string(), nullable=False)
    can_share = sa.Column(sa.Boolean, nullable=False, default=False)
    status = sa.Column(sa.String(20), nullable=False, default='pending')


class Task(_Timestamps, Base):
    __tablename__ = 'tasks'
    __table_args__ = (
        sa.Index('ix_tasks_owner', 'owner'),
        sa.Index('ix_tasks_status', 'status'),
        sa.Index('ix_tasks_image_id', 'image_id'),
        sa.Index('ix_tasks_expires_at', 'expires_at'),
    )

    id = sa.Column(sa.String(36), primary_key=True)
    type = sa.Column(sa.String(30), nullable=False)
    status = sa.Column(sa.String(30), nullable=False)
    owner = sa.Column(sa.String(255), nullable=False)
    expires_at = sa.Column(sa.DateTime)
    image_id = sa.Column(sa.String(36))
    request_id = sa.Column(sa.String(64))
    user_id = sa.Column(sa.String(64))
    input = sa.Column(sa.Text)
    result = sa.Column(sa.Text)
    message = sa.Column(sa.Text)
    # The process running the task ("host:pid:boot"), its last sign of life and the bytes it
    # has done: housekeeping fails a task whose runner is gone (glance.image.task_runner).
    holder = sa.Column(sa.String(255))
    heartbeat_at = sa.Column(sa.DateTime)
    progress = sa.Column(sa.BigInteger)


class CacheInvalidation(Base):
    """An eviction a glance-stream node has not acknowledged yet (retried by housekeeping)."""

    __tablename__ = 'cache_invalidations'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'endpoint',
                            name='uq_cache_invalidations_image_id_endpoint'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), nullable=False)
    endpoint = sa.Column(sa.String(255), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=now)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)


class ImagePieces(Base):
    """The piece map of an image's data: a digest for every ``piece_size`` bytes, in order.

    Written with the image's other hashes at upload (or by glance-stream on the first full
    verified read of an image that has none); never changed afterwards, since an active
    image's bytes never change.
    """

    __tablename__ = 'image_pieces'

    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id', ondelete='CASCADE'),
                         primary_key=True)
    algo = sa.Column(sa.String(32), nullable=False)
    piece_size = sa.Column(sa.BigInteger, nullable=False)
    image_size = sa.Column(sa.BigInteger, nullable=False)
    digests = sa.Column(sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mysql'),
                        nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=now)


class Lease(Base):
    """A deployment-wide lease: the work named ``name`` runs on ``holder``.

    Until ``expires_at`` (renewed while it runs), so one host in a deployment does it at a
    time (the scrubber).
    """

    __tablename__ = 'leases'

    name = sa.Column(sa.String(64), primary_key=True)
    holder = sa.Column(sa.String(255), nullable=False)
    expires_at = sa.Column(sa.DateTime, nullable=False)


class Counter(Base):
    """A deployment-wide counter of the housekeeping.

    What the scrubber, crash recovery and the audit did, summed over every host and restart
    (glance.image.housekeeping_metrics).
    """

    __tablename__ = 'counters'

    name = sa.Column(sa.String(64), primary_key=True)
    value = sa.Column(sa.BigInteger, nullable=False, server_default='0')
    updated_at = sa.Column(sa.DateTime, nullable=False, default=now)


# --- metadata definitions catalog (/v2/metadefs) --------------------------------------------
# Upstream Glance's tables and column sizes, so an operator's catalog fits unchanged. JSON
# documents (a property's schema, an object's properties) are kept as text in the order
# they were written: glance-manage db export_metadefs gives back what was loaded.

def _metadef_name():
    """A catalog name: compared byte for byte on every engine.

    MariaDB's default collation ignores case, which would make ``OS::Foo`` and ``os::foo``
    one namespace there and two on PostgreSQL and SQLite.
    """
    return sa.String(80).with_variant(mysql.VARCHAR(80, collation='utf8mb4_bin'), 'mysql')


class _MetadefTimestamps:
    created_at = sa.Column(sa.DateTime, nullable=False, default=now)
    updated_at = sa.Column(sa.DateTime, nullable=True, onupdate=now)


class MetadefNamespace(_MetadefTimestamps, Base):
    __tablename__ = 'metadef_namespaces'
    __table_args__ = (
        sa.UniqueConstraint('namespace', name='uq_metadef_namespaces_namespace'),
        sa.Index('ix_metadef_namespaces_owner', 'owner'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace = sa.Column(_metadef_name(), nullable=False)
    display_name = sa.Column(sa.String(80))
    description = sa.Column(sa.Text)
    visibility = sa.Column(sa.String(32), nullable=False, default='private')
    protected = sa.Column(sa.Boolean, nullable=False, default=False)
    owner = sa.Column(sa.String(255))


class MetadefObject(_MetadefTimestamps, Base):
    __tablename__ = 'metadef_objects'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_objects_namespace_id_name'),
        sa.Index('ix_metadef_objects_name', 'name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(sa.Integer, sa.ForeignKey('metadef_namespaces.id',
                                                       ondelete='CASCADE'), nullable=False)
    name = sa.Column(_metadef_name(), nullable=False)
    description = sa.Column(sa.Text)
    required = sa.Column(sa.Text)  # JSON list of property names
    json_schema = sa.Column(sa.Text, nullable=False)  # JSON object: the object's properties


class MetadefProperty(_MetadefTimestamps, Base):
    __tablename__ = 'metadef_properties'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_properties_namespace_id_name'),
        sa.Index('ix_metadef_properties_name', 'name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(sa.Integer, sa.ForeignKey('metadef_namespaces.id',
                                                       ondelete='CASCADE'), nullable=False)
    name = sa.Column(_metadef_name(), nullable=False)
    json_schema = sa.Column(sa.Text, nullable=False)  # JSON object: title, type, ...


class MetadefTag(_MetadefTimestamps, Base):
    __tablename__ = 'metadef_tags'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_tags_namespace_id_name'),
        sa.Index('ix_metadef_tags_name', 'name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(sa.Integer, sa.ForeignKey('metadef_namespaces.id',
                                                       ondelete='CASCADE'), nullable=False)
    name = sa.Column(_metadef_name(), nullable=False)


class MetadefResourceType(_MetadefTimestamps, Base):
    __tablename__ = 'metadef_resource_types'
    __table_args__ = (
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    name = sa.Column(_metadef_name(), nullable=False)
    protected = sa.Column(sa.Boolean, nullable=False, default=False)


class MetadefNamespaceResourceType(_MetadefTimestamps, Base):
    __tablename__ = 'metadef_namespace_resource_types'
    __table_args__ = (
        sa.Index('ix_metadef_ns_res_types_namespace_id', 'namespace_id'),
    )

    resource_type_id = sa.Column(sa.Integer, sa.ForeignKey('metadef_resource_types.id',
                                                           ondelete='CASCADE'),
                                 primary_key=True)
    namespace_id = sa.Column(sa.Integer, sa.ForeignKey('metadef_namespaces.id',
                                                       ondelete='CASCADE'), primary_key=True)
    properties_target = sa.Column(sa.String(80))
    prefix = sa.Column(sa.String(80))
