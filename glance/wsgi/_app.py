"""Build a service's paste application for an external WSGI server."""

import ctypes
import os

from glance.common import background
from glance.common import config
from glance.common import memory
from glance.common import native


def _getenv(name):
    """An environment variable as the process has it now.

    uWSGI's ``env =`` option sets variables with putenv() after the Python interpreter took
    its copy of the environment (pyuwsgi starts from Python), so os.environ misses them.
    """
    value = os.environ.get(name)
    if value is None:
        getenv = ctypes.CDLL(None).getenv
        getenv.restype = ctypes.c_char_p
        raw = getenv(name.encode())
        value = raw.decode() if raw else None
    return value


def init(service):
    """Parse config (GLANCE_CONFIG_FILE or the default search path), set logging, load."""
    files = _getenv('GLANCE_CONFIG_FILE')
    argv = []
    for path in (files.split(',') if files else []):
        argv += ['--config-file', path]
    config.parse_args(argv, prog=service)
    config.setup_logging('glance')
    config.ensure_state_path()
    memory.fix_mmap_threshold(memory.threshold_for(service))
    app = config.load_paste_app(service)
    _start_background_after_fork(service)
    return app


def _start_background_after_fork(service):
    """Background work belongs to workers: under uWSGI, start it after the fork.

    With ``lazy-apps`` the app is loaded in each worker (worker_id > 0): start now. Loaded
    in the master, it starts in each worker through uWSGI's post-fork hook. Other servers
    (gunicorn, mod_wsgi) import this module in the worker.
    """
    try:
        import uwsgi
    except ImportError:
        background.start(service)
        return
    if uwsgi.worker_id() > 0:
        background.start(service)
        return
    previous = getattr(uwsgi, 'post_fork_hook', None)

    def hook():
        if previous is not None:
            previous()
        native.reset_tpool_after_fork()
        background.start(service)
    uwsgi.post_fork_hook = hook
