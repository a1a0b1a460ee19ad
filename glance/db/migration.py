"""Schema migrations with alembic, in expand and contract branches.

``sync`` applies everything. A rolling upgrade runs ``expand`` (additive changes, safe while
old services run), ``migrate`` (data moves, when a release has any), then ``contract`` once
every service runs the new code. ``check`` tells which of those steps is still due.
"""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
import sqlalchemy as sa

from glance.db import api as db_api

EXPAND = 'expand'
CONTRACT = 'contract'

# glance-manage db check exit codes, as upstream Glance uses them.
CHECK_OK, CHECK_EXPAND, CHECK_MIGRATE, CHECK_CONTRACT = 0, 3, 4, 5


def _config(connection):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location',
                        os.path.join(os.path.dirname(__file__), 'migrations'))
    cfg.attributes['connection'] = connection
    return cfg


def _script():
    return alembic_script.ScriptDirectory.from_config(_config(None))


def _engine(engine=None):
    return engine if engine is not None else db_api.get_engine()


def upgrade(target='heads', engine=None):
    with _engine(engine).begin() as connection:
        alembic_command.upgrade(_config(connection), target)


def sync(engine=None):
    upgrade('heads', engine)


def expand(engine=None):
    upgrade('%s@head' % EXPAND, engine)


def migrate(engine=None):
    """Data migrations between expand and contract. This release has none to run."""
    return 0


def contract(engine=None):
    if pending(EXPAND, engine):
        raise RuntimeError('Run "glance-manage db expand" before contract.')
    upgrade('%s@head' % CONTRACT, engine)


def current(engine=None):
    """Revisions the database is at (empty for an unmigrated database)."""
    with _engine(engine).connect() as connection:
        ctx = alembic_migration.MigrationContext.configure(connection)
        return set(ctx.get_current_heads())


def _applied(engine=None):
    heads = current(engine)
    script = _script()
    applied = set()
    for head in heads:
        applied.update(rev.revision for rev in script.iterate_revisions(head, 'base'))
    return applied


def pending(branch, engine=None):
    """Revisions of ``branch`` not applied yet."""
    script = _script()
    head = script.get_revision('%s@head' % branch)
    wanted = {rev.revision for rev in script.iterate_revisions(head.revision, 'base')}
    return wanted - _applied(engine)


def check(engine=None):
    if pending(EXPAND, engine):
        return CHECK_EXPAND
    if pending(CONTRACT, engine):
        return CHECK_CONTRACT
    return CHECK_OK


def has_tables(engine=None):
    return bool(sa.inspect(_engine(engine)).get_table_names())


def has_table(name, engine=None):
    return name in sa.inspect(_engine(engine)).get_table_names()
