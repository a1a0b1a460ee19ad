"""What glance-api and glance-stream share at start: config, logging, checks, serve."""

import sys

from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_log import log as logging

from glance.common import config
from glance.common import exception
from glance.common import memory
from glance.common import wsgi
from glance.db import api as db_api
from glance.db import migration

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _fail(prog, message):
    """One clear line, on the log and on stderr, and exit 1: no traceback for bad config."""
    try:
        if CONF.log_file or CONF.log_dir:  # without one the log is stderr: say it once
            LOG.error('%s cannot start: %s', prog, message)
    except Exception:  # the configuration itself did not parse
        pass
    sys.stderr.write('%s: ERROR: %s\n' % (prog, message))
    sys.exit(1)


def check_database(prog):
    problem = None
    try:
        db_api.check_connection()
        if not migration.has_tables():
            problem = ('the database %s has no tables: run "glance-manage db sync" first'
                       % _safe_url())
    except db_exc.DBError as e:
        problem = 'cannot reach the database %s: %s' % (_safe_url(), _first_line(e))
    except db_api.DRIVER_ERRORS as e:
        problem = db_api.driver_problem(e)
    if problem:
        _fail(prog, problem)


def _safe_url():
    from sqlalchemy.engine import url as sa_url
    try:
        return sa_url.make_url(CONF.database.connection).render_as_string(hide_password=True)
    except Exception:
        return '(unparsable connection URL)'


def _first_line(error):
    text = str(getattr(error, 'inner_exception', None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def main(prog, service, default_port, argv=None, prepare=None):
    problem = None
    try:
        config.parse_args(argv, prog=prog)
        config.setup_logging('glance')
        config.ensure_state_path()
        memory.fix_mmap_threshold(memory.threshold_for(service))
        if prepare is not None:
            prepare()
        check_database(prog)
        wsgi.serve(prog, lambda: config.load_paste_app(service), default_port)
    except cfg.Error as e:
        problem = _first_line(e)
    except (exception.GlanceException, OSError) as e:
        problem = str(e)
    if problem:
        # Outside the except blocks: oslo.log would append the exception to the line.
        _fail(prog, problem)
