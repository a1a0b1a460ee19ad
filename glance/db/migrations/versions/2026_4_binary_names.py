"""Names, tags, property values, members and owners compared byte for byte on MySQL too.

MariaDB's and MySQL's default collations compare case- and accent-insensitively and ignore
trailing spaces: there, tags "a" and "A" were one tag (a 409 on their unique key), and
``?name=Foo`` listed an image named "foo", where PostgreSQL and SQLite keep both apart. A
binary collation without padding (MariaDB's utf8mb4_nopad_bin, MySQL 8's utf8mb4_0900_bin;
utf8mb4_bin, which still ignores trailing spaces, only where neither exists) makes every
engine give the same answer. PostgreSQL and SQLite are unchanged.

An in-place change of comparison rules, which running services tolerate: expand branch.

Revision ID: 2026_4_binary_names
Revises: 2026_3_metadefs
"""

from alembic import op
from sqlalchemy.dialects import mysql

revision = '2026_4_binary_names'
down_revision = '2026_3_metadefs'
branch_labels = None
depends_on = None

# (table, column, MySQL type before, nullable)
COLUMNS = (
    ('images', 'name', 'varchar', True),
    ('images', 'owner', 'varchar', True),
    ('image_properties', 'name', 'varchar', False),
    ('image_properties', 'value', 'text', True),
    ('image_tags', 'value', 'varchar', False),
    ('image_members', 'member', 'varchar', False),
)


def binary_collation(bind):
    for collation in ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin'):
        if bind.exec_driver_sql("SHOW COLLATION LIKE '%s'" % collation).first():
            return collation
    return 'utf8mb4_bin'


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'mysql':
        return
    collation = binary_collation(bind)
    for table, column, kind, nullable in COLUMNS:
        new_type = (mysql.TEXT(collation=collation) if kind == 'text'
                    else mysql.VARCHAR(255, collation=collation))
        op.alter_column(table, column, type_=new_type, existing_nullable=nullable)
