"""Each tag and property row carries its image's creation time (expand), so that a tag or
property filter in the list's default order can walk that tag's (or name and value's) rows
in date order and stop after a page, rather than read every image that matches and sort
them.

The columns are filled here for the rows that exist. Rows a service still on the old code
writes meanwhile have none; the contract step (2026_9_filter_order_contract) fills those
and only then adds the indexes that the list query waits for.

Revision ID: 2026_9_filter_order
Revises: 2026_8_counters
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_9_filter_order'
down_revision = '2026_8_counters'
branch_labels = None
depends_on = None

TABLES = ('image_tags', 'image_properties')
# (the same statement in the contract step: a migration does not import another)
FILL = ('UPDATE %(table)s SET image_created_at = (SELECT images.created_at FROM images '
        'WHERE images.id = %(table)s.image_id) WHERE image_created_at IS NULL')


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('image_created_at', sa.DateTime, nullable=True))
        op.execute(FILL % {'table': table})
