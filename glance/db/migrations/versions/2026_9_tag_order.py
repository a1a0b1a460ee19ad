"""Each tag row carries its image's creation time (expand), so that a tag filter in the
list's default order can walk that tag's rows in date order and stop after a page, rather
than read every image that carries the tag and sort them.

The column is filled here for the rows that exist. Rows a service still on the old code
writes meanwhile have none; the contract step (2026_9_tag_order_contract) fills those and
only then adds the index that the list query waits for.

Revision ID: 2026_9_tag_order
Revises: 2026_8_counters
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_9_tag_order'
down_revision = '2026_8_counters'
branch_labels = None
depends_on = None

# (the same statement in the contract step: a migration does not import another)
FILL = ('UPDATE image_tags SET image_created_at = (SELECT images.created_at FROM images '
        'WHERE images.id = image_tags.image_id) WHERE image_created_at IS NULL')


def upgrade():
    op.add_column('image_tags', sa.Column('image_created_at', sa.DateTime, nullable=True))
    op.execute(FILL)
