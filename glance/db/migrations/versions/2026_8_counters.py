"""Deployment-wide counters of the housekeeping (scrubber, crash recovery, audit), so an
operator's monitoring reads what they did from any glance-api, across restarts.

Revision ID: 2026_8_counters
Revises: 2026_7_upload_store
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_8_counters'
down_revision = '2026_7_upload_store'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'counters',
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('value', sa.BigInteger, nullable=False, server_default='0'),
        sa.Column('updated_at', sa.DateTime, nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
