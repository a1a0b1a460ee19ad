"""Piece hashes: one digest per fixed-size piece of an image's data.

Revision ID: 2026_2_image_pieces
Revises: 2026_1_cache_invalidations
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '2026_2_image_pieces'
down_revision = '2026_1_cache_invalidations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'image_pieces',
        sa.Column('image_id', sa.String(36),
                  sa.ForeignKey('images.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('algo', sa.String(32), nullable=False),
        sa.Column('piece_size', sa.BigInteger, nullable=False),
        sa.Column('image_size', sa.BigInteger, nullable=False),
        # the raw digests of every piece, in order (a 1 TiB image in 8 MiB SHA-256 pieces
        # is 4 MiB: LONGBLOB on MySQL, whose BLOB stops at 64 KiB)
        sa.Column('digests', sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mysql'),
                  nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
