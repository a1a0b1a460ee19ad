"""The store an upload, stage or import writes to, recorded when it starts, so that crash
recovery cleans the partial data in that store (not only in the default one); and the lease
that lets one glance-api host in a deployment run the scrubber at a time.

Revision ID: 2026_7_upload_store
Revises: 2026_6_list_indexes
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_7_upload_store'
down_revision = '2026_6_list_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('images', sa.Column('upload_store', sa.String(255), nullable=True))
    op.create_table(
        'leases',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('holder', sa.String(255), nullable=False),
        sa.Column('expires_at', sa.DateTime, nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
