"""The initial schema: images, properties, tags, locations, members, tasks.

Revision ID: 2026_1_initial
Revises:
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_1_initial'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('deleted_at', sa.DateTime),
        sa.Column('deleted', sa.Boolean, nullable=False),
    ]


def upgrade():
    table_kwargs = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
    op.create_table(
        'images',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255)),
        sa.Column('disk_format', sa.String(20)),
        sa.Column('container_format', sa.String(20)),
        sa.Column('size', sa.BigInteger),
        sa.Column('virtual_size', sa.BigInteger),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('visibility', sa.String(20), nullable=False),
        sa.Column('checksum', sa.String(32)),
        sa.Column('os_hash_algo', sa.String(64)),
        sa.Column('os_hash_value', sa.String(128)),
        sa.Column('min_disk', sa.Integer, nullable=False),
        sa.Column('min_ram', sa.Integer, nullable=False),
        sa.Column('owner', sa.String(255)),
        sa.Column('protected', sa.Boolean, nullable=False),
        sa.Column('os_hidden', sa.Boolean, nullable=False),
        sa.Column('upload_holder', sa.String(255)),
        sa.Column('upload_heartbeat_at', sa.DateTime),
        *_timestamps(),
        **table_kwargs)
    for column in ('visibility', 'owner', 'status', 'deleted', 'created_at', 'updated_at',
                   'name', 'os_hash_value'):
        op.create_index('ix_images_%s' % column, 'images', [column])

    op.create_table(
        'image_properties',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36),
                  sa.ForeignKey('images.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('value', sa.Text),
        sa.UniqueConstraint('image_id', 'name', name='uq_image_properties_image_id_name'),
        **table_kwargs)
    op.create_index('ix_image_properties_name', 'image_properties', ['name'])

    op.create_table(
        'image_tags',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36),
                  sa.ForeignKey('images.id', ondelete='CASCADE'), nullable=False),
        sa.Column('value', sa.String(255), nullable=False),
        sa.UniqueConstraint('image_id', 'value', name='uq_image_tags_image_id_value'),
        **table_kwargs)
    op.create_index('ix_image_tags_value', 'image_tags', ['value'])

    op.create_table(
        'image_locations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36),
                  sa.ForeignKey('images.id', ondelete='CASCADE'), nullable=False),
        sa.Column('value', sa.Text, nullable=False),
        sa.Column('meta_data', sa.Text, nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        *_timestamps(),
        **table_kwargs)
    op.create_index('ix_image_locations_image_id', 'image_locations', ['image_id'])
    op.create_index('ix_image_locations_status', 'image_locations', ['status'])

    op.create_table(
        'image_members',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36),
                  sa.ForeignKey('images.id', ondelete='CASCADE'), nullable=False),
        sa.Column('member', sa.String(255), nullable=False),
        sa.Column('can_share', sa.Boolean, nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.UniqueConstraint('image_id', 'member', name='uq_image_members_image_id_member'),
        *_timestamps(),
        **table_kwargs)
    op.create_index('ix_image_members_member', 'image_members', ['member'])

    op.create_table(
        'tasks',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('type', sa.String(30), nullable=False),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('owner', sa.String(255), nullable=False),
        sa.Column('expires_at', sa.DateTime),
        sa.Column('image_id', sa.String(36)),
        sa.Column('request_id', sa.String(64)),
        sa.Column('user_id', sa.String(64)),
        sa.Column('input', sa.Text),
        sa.Column('result', sa.Text),
        sa.Column('message', sa.Text),
        *_timestamps(),
        **table_kwargs)
    op.create_index('ix_tasks_owner', 'tasks', ['owner'])
    op.create_index('ix_tasks_status', 'tasks', ['status'])
