"""Drop the single-column indexes the image list indexes supersede (contract).

Each dropped index is a prefix of (or served by) one that 2026_6_list_indexes added:
``ix_images_owner`` by ``ix_images_list_owner`` (deleted, owner, ...) for every query that
asks for live images, and so on.

Revision ID: 2026_6_list_indexes_contract
Revises: 2026_1_contract
Depends on: 2026_6_list_indexes
"""

from alembic import op

revision = '2026_6_list_indexes_contract'
down_revision = '2026_1_contract'
branch_labels = None
depends_on = '2026_6_list_indexes'

_SUPERSEDED = (
    ('images', ('ix_images_visibility', 'ix_images_owner', 'ix_images_status',
                'ix_images_deleted', 'ix_images_created_at', 'ix_images_updated_at',
                'ix_images_name')),
    ('image_tags', ('ix_image_tags_value',)),
    ('image_properties', ('ix_image_properties_name',)),
    ('image_members', ('ix_image_members_member',)),
)


def upgrade():
    for table, names in _SUPERSEDED:
        for name in names:
            op.drop_index(name, table_name=table)
