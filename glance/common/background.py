"""Background work of a server, started in its workers after the fork, once per host.

Paste factories only build applications: they run in the supervisor parent too, and again on
every reload. Background work (glance-api: upload recovery, the scrubber, cache eviction
retries; glance-stream: cache clean-up, prefetch, scrub, metrics) is started here instead,
by the server in each worker after the fork (glance.common.wsgi) or by the WSGI entry point
of an external server (glance.wsgi). Each worker competes for a lock file under
``state_path``: the one that holds it runs the work, the others try again every few
seconds, so a host runs exactly one set of loops, however many workers, reloads (SIGHUP) or
restarts it has seen; when the holder exits, another worker takes over.

Under eventlet's server the loops are green threads of the worker. Under a server that does
not run eventlet (uWSGI), they run in one native thread of their own with its own hub.
"""

import fcntl
import os
import random

import eventlet
from eventlet import patcher
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import importutils

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# service -> the function that starts its loops (green threads) and returns them
SERVICES = {
    'glance-api': 'glance.image.recovery.start',
    'glance-stream': 'glance.stream.prefetcher.start',
}

_RETRY = (3.0, 6.0)  # seconds between two tries for the lock, drawn in this range
_state = {'started': False, 'lock': None, 'threads': []}


def lock_path(service):
    return os.path.join(CONF.state_path, 'locks', '%s-background.lock' % service)


def start(service):
    """Start competing for this host's background work of ``service`` (once a process)."""
    if _state['started'] or service not in SERVICES:
        return
    _state['started'] = True
    if patcher.is_monkey_patched('thread'):
        eventlet.spawn_n(_lead, service)
    else:
        thread = patcher.original('threading').Thread(target=_lead, args=(service,),
                                                      name='glance-background', daemon=True)
        thread.start()


def _try_lock(service):
    path = lock_path(service)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, b'%d\n' % os.getpid())
    return fd


def _lead(service):
    while True:
        try:
            fd = _try_lock(service)
        except OSError as e:
            LOG.error('Background work of %s cannot take its lock %s: %s', service,
                      lock_path(service), e)
            fd = None
        if fd is not None:
            _state['lock'] = fd  # held until this process exits
            LOG.info('Background work of %s runs in process %d', service, os.getpid())
            try:
                _state['threads'] = importutils.import_class(SERVICES[service])()
            except Exception:
                LOG.exception('Background work of %s failed to start', service)
            break
        eventlet.sleep(random.uniform(*_RETRY))
    if not patcher.is_monkey_patched('thread'):
        while True:  # this native thread's hub runs the loops
            eventlet.sleep(3600)


def holder(service):
    """The pid written by the process holding the lock (for tests and operators), or None."""
    try:
        with open(lock_path(service)) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None
