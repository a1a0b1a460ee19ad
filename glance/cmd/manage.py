"""glance-manage: database migrations and other operator commands.

Each command group is a class whose public methods are sub-commands; ``add_command_parsers``
turns them into argparse sub-parsers through oslo.config's SubCommandOpt.
"""

import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from glance.common import config
from glance.db import api as db_api
from glance.db import migration

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class DbCommands:
    """Create and upgrade the database schema."""

    def sync(self):
        """Apply every migration (expand and contract)."""
        migration.sync()
        print('Database is synced successfully.')

    def version(self):
        """Print the revisions the database is at."""
        heads = sorted(migration.current())
        print(', '.join(heads) if heads else 'None (the database is not versioned)')

    def check(self):
        """Exit 0 if the schema is current, 3 if expand, 5 if contract is due."""
        status = migration.check()
        messages = {
            migration.CHECK_OK: 'Database is up to date. No upgrades needed.',
            migration.CHECK_EXPAND: 'Your database is not up to date. Your first step is '
                                    'to run "glance-manage db expand".',
            migration.CHECK_MIGRATE: 'Your database is not up to date. Your next step is '
                                     'to run "glance-manage db migrate".',
            migration.CHECK_CONTRACT: 'Your database is not up to date. Your next step is '
                                      'to run "glance-manage db contract".',
        }
        print(messages[status])
        return status

    def expand(self):
        """Apply the additive (expand) migrations."""
        migration.expand()
        print('Database expansion is up to date.')

    def migrate(self):
        """Run the data migrations between expand and contract."""
        migration.migrate()
        print('Database migration is up to date.')

    def contract(self):
        """Apply the contract migrations (after every service is upgraded)."""
        migration.contract()
        print('Database is up to date. No migrations needed.')


CATEGORIES = {
    'db': DbCommands,
}


def _public_methods(cls):
    return [name for name in dir(cls) if not name.startswith('_')
            and callable(getattr(cls, name))]


def add_command_parsers(subparsers):
    for category, cls in CATEGORIES.items():
        parser = subparsers.add_parser(category, help=(cls.__doc__ or '').strip())
        actions = parser.add_subparsers(dest='action', metavar='<action>')
        actions.required = True
        for name in _public_methods(cls):
            method = getattr(cls, name)
            action = actions.add_parser(name.replace('_', '-'),
                                        help=(method.__doc__ or '').strip().splitlines()[0])
            for args, kwargs in getattr(method, 'args', []):
                action.add_argument(*args, **kwargs)
            action.set_defaults(action_fn=name)


def args(*arguments, **kwargs):
    """Decorator: declare an argparse argument of a sub-command."""
    def _decorate(fn):
        fn.__dict__.setdefault('args', []).insert(0, (arguments, kwargs))
        return fn
    return _decorate


command_opt = cfg.SubCommandOpt('command', title='Commands', help='Available categories',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    try:
        config.parse_args(argv, prog='glance-manage')
        config.setup_logging('glance')
        config.ensure_state_path()
    except cfg.Error as e:
        sys.exit('glance-manage: ERROR: %s' % e)
    category = CONF.command.name
    obj = CATEGORIES[category]()
    fn = getattr(obj, CONF.command.action_fn)
    kwargs = {k: v for k, v in vars(CONF.command).items()
              if k not in ('name', 'action', 'action_fn') and not k.startswith('_')}
    try:
        result = fn(**kwargs)
    except db_exc.DBError as e:
        sys.exit('glance-manage: ERROR: database error: %s'
                 % (getattr(e, 'inner_exception', None) or e))
    except Exception as e:  # an operator command ends with a sentence, not a traceback
        LOG.debug('glance-manage %s failed', category, exc_info=True)
        sys.exit('glance-manage: ERROR: %s' % e)
    sys.exit(result if isinstance(result, int) else 0)


__all__ = ['main', 'args', 'db_api']


if __name__ == '__main__':
    main()
