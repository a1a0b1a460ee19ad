"""The tag filter's ordered index (contract), once every tag row has its image's creation
time.

No service runs the code of before 2026_9_tag_order any more, so no new row lacks the
column: fill the rows the old code wrote during the upgrade, then add
``ix_image_tags_list (value, image_created_at, image_id)``. glance-api takes the ordered
tag plan only when this index exists (glance.db.image_list).

Revision ID: 2026_9_tag_order_contract
Revises: 2026_6_list_indexes_contract
Depends on: 2026_9_tag_order
"""

from alembic import op

revision = '2026_9_tag_order_contract'
down_revision = '2026_6_list_indexes_contract'
branch_labels = None
depends_on = '2026_9_tag_order'

FILL = ('UPDATE image_tags SET image_created_at = (SELECT images.created_at FROM images '
        'WHERE images.id = image_tags.image_id) WHERE image_created_at IS NULL')


def upgrade():
    op.execute(FILL)
    op.create_index('ix_image_tags_list', 'image_tags',
                    ['value', 'image_created_at', 'image_id'])
