"""Cache invalidations still to deliver to glance-stream nodes.

Revision ID: 2026_1_cache_invalidations
Revises: 2026_1_expand
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_1_cache_invalidations'
down_revision = '2026_1_expand'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cache_invalidations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('image_id', sa.String(36), nullable=False),
        sa.Column('endpoint', sa.String(255), nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.UniqueConstraint('image_id', 'endpoint',
                            name='uq_cache_invalidations_image_id_endpoint'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
