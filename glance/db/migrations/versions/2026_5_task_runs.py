"""Tasks that survive their worker: who runs a task, when it last made progress, how far.

A task in ``processing`` records the process running it (``holder``, "host:pid:boot"), a
heartbeat (``heartbeat_at``) and the bytes done so far (``progress``), so that housekeeping
in any glance-api can tell a task whose worker died and fail it cleanly.

Revision ID: 2026_5_task_runs
Revises: 2026_4_binary_names
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_5_task_runs'
down_revision = '2026_4_binary_names'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tasks', sa.Column('holder', sa.String(255)))
    op.add_column('tasks', sa.Column('heartbeat_at', sa.DateTime))
    op.add_column('tasks', sa.Column('progress', sa.BigInteger))
    op.create_index('ix_tasks_image_id', 'tasks', ['image_id'])
    op.create_index('ix_tasks_expires_at', 'tasks', ['expires_at'])
