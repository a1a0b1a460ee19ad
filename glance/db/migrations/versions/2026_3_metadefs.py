"""The metadata definitions catalog: namespaces and their objects, properties, tags, and
the resource types they apply to (upstream Glance's tables and column sizes).

Revision ID: 2026_3_metadefs
Revises: 2026_2_image_pieces
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '2026_3_metadefs'
down_revision = '2026_2_image_pieces'
branch_labels = None
depends_on = None

_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def _name():
    # compared byte for byte everywhere: MariaDB's default collation ignores case
    return sa.String(80).with_variant(mysql.VARCHAR(80, collation='utf8mb4_bin'), 'mysql')


def _timestamps():
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime, nullable=True)]


def _namespace_id():
    return sa.Column('namespace_id', sa.Integer,
                     sa.ForeignKey('metadef_namespaces.id', ondelete='CASCADE'),
                     nullable=False)


def upgrade():
    op.create_table(
        'metadef_namespaces',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('namespace', _name(), nullable=False),
        sa.Column('display_name', sa.String(80)),
        sa.Column('description', sa.Text),
        sa.Column('visibility', sa.String(32), nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('owner', sa.String(255)),
        *_timestamps(),
        sa.UniqueConstraint('namespace', name='uq_metadef_namespaces_namespace'),
        sa.Index('ix_metadef_namespaces_owner', 'owner'),
        **_TABLE_ARGS)
    op.create_table(
        'metadef_objects',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        _namespace_id(),
        sa.Column('name', _name(), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('required', sa.Text),
        sa.Column('json_schema', sa.Text, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_objects_namespace_id_name'),
        sa.Index('ix_metadef_objects_name', 'name'),
        **_TABLE_ARGS)
    op.create_table(
        'metadef_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        _namespace_id(),
        sa.Column('name', _name(), nullable=False),
        sa.Column('json_schema', sa.Text, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_properties_namespace_id_name'),
        sa.Index('ix_metadef_properties_name', 'name'),
        **_TABLE_ARGS)
    op.create_table(
        'metadef_tags',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        _namespace_id(),
        sa.Column('name', _name(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name', name='uq_metadef_tags_namespace_id_name'),
        sa.Index('ix_metadef_tags_name', 'name'),
        **_TABLE_ARGS)
    op.create_table(
        'metadef_resource_types',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('name', _name(), nullable=False),
        sa.Column('protected', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
        **_TABLE_ARGS)
    op.create_table(
        'metadef_namespace_resource_types',
        sa.Column('resource_type_id', sa.Integer,
                  sa.ForeignKey('metadef_resource_types.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('namespace_id', sa.Integer,
                  sa.ForeignKey('metadef_namespaces.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('properties_target', sa.String(80)),
        sa.Column('prefix', sa.String(80)),
        *_timestamps(),
        sa.Index('ix_metadef_ns_res_types_namespace_id', 'namespace_id'),
        **_TABLE_ARGS)
