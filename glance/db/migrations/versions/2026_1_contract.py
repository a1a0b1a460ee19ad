"""Root of the contract branch: removals, run once no old service needs the old schema.

Revision ID: 2026_1_contract
Revises: 2026_1_initial
"""

revision = '2026_1_contract'
down_revision = '2026_1_initial'
branch_labels = ('contract',)
depends_on = '2026_1_expand'


def upgrade():
    pass  # the branch root; changes come in later revisions
