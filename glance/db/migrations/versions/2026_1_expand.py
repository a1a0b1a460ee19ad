"""Root of the expand branch: additive changes that running services tolerate.

Revision ID: 2026_1_expand
Revises: 2026_1_initial
"""

revision = '2026_1_expand'
down_revision = '2026_1_initial'
branch_labels = ('expand',)
depends_on = None


def upgrade():
    pass  # the branch root; changes come in later revisions
