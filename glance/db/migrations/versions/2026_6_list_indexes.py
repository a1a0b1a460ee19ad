"""Indexes for the image list at catalogue scale (expand): one per sort key, and the tag,
property and membership indexes that start with the value a filter asks for.

Each images index is (deleted, sort key, created_at, id): it serves the list's order, the
keyset bound of a page after a marker and an equality filter on the key. The indexes they
supersede go in the contract step (2026_6_list_indexes_contract), so a service still
on the old code keeps its plans until then.

Revision ID: 2026_6_list_indexes
Revises: 2026_5_task_runs
"""

from alembic import op

revision = '2026_6_list_indexes'
down_revision = '2026_5_task_runs'
branch_labels = None
depends_on = None

# name -> columns after "deleted" (the same as glance.db.models.LIST_INDEXES, spelt out:
# a migration does not change when the models do)
_LIST_INDEXES = {'ix_images_list_created_at': ('created_at', 'id')}
_LIST_INDEXES.update(
    ('ix_images_list_%s' % key, (key, 'created_at', 'id'))
    for key in ('name', 'status', 'container_format', 'disk_format', 'size', 'updated_at',
                'visibility', 'owner', 'min_disk', 'min_ram', 'virtual_size', 'protected',
                'os_hidden'))

# PostgreSQL's btree entries hold at most about 2,700 bytes and a property value may have
# 65,535: it indexes the first 255 characters (MariaDB does the same with a prefix length).
PROPERTY_VALUE_PREFIX = 255


def upgrade():
    for name, columns in _LIST_INDEXES.items():
        op.create_index(name, 'images', ['deleted'] + list(columns))
    op.create_index('ix_image_tags_value_image_id', 'image_tags', ['value', 'image_id'])
    op.create_index('ix_image_members_member_status', 'image_members',
                    ['member', 'status', 'image_id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE INDEX ix_image_properties_name_value ON image_properties '
                   '(name, substr(value, 1, %d), image_id)' % PROPERTY_VALUE_PREFIX)
    else:
        op.create_index('ix_image_properties_name_value', 'image_properties',
                        ['name', 'value', 'image_id'],
                        mysql_length={'value': PROPERTY_VALUE_PREFIX})
