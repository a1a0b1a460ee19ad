"""Running tasks in glance-api workers, with a heartbeat, and failing those whose runner died.

A task is a row in the database (glance.db.api ``task_*``). The worker that accepted the
request runs it in a green thread: it marks the task ``processing`` with itself as holder
("host:pid:boot", as uploads do), then beats every ``[task] heartbeat_interval`` seconds,
recording the bytes done and a progress message that ``GET /v2/tasks/{id}`` and
``GET /v2/images/{id}/tasks`` show. A task ends ``success`` with its result or ``failure``
with a message, and from then lives ``[task] task_time_to_live`` hours.

If the worker dies (killed, host rebooted), the task stays ``processing`` with a holder that
is gone. Housekeeping (glance.image.recovery, once per host) finds it with
``recover(cleanups)``: the task's own clean-up runs (for an import: delete partial data,
image back to ``queued``, staging data removed, import lock released) and the task fails
with a message saying so. Every step is a compare-and-set, so a runner that is in fact
alive but slow notices at its next beat that its task was failed, and stops.
"""

import datetime
import time

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import notifier
from glance.db import api as db_api
from glance.db import models

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

task_opts = [
    cfg.IntOpt('task_time_to_live', default=48, min=1,
               help='Hours a task is kept (and shown) after it succeeded or failed; '
                    'housekeeping deletes it then.'),
    cfg.IntOpt('heartbeat_interval', default=10, min=1,
               help='Seconds between the progress marks a running task writes on its row.'),
    cfg.IntOpt('stale_after', default=300, min=10,
               help='Seconds without a heartbeat after which a running task counts as dead, '
                    'whichever host runs it (on the runner\'s own host, a dead process is '
                    'noticed at once). Must exceed heartbeat_interval.'),
]
CONF.register_opts(task_opts, group='task')

ACTIVE_STATUSES = ('pending', 'processing')


class TaskCancelled(Exception):
    """The task was failed by someone else (housekeeping) while this runner worked on it."""


class Progress:
    """What a running task reports: bytes done, a message, and the heartbeat."""

    def __init__(self, task_id):
        self.task_id = task_id
        self.done = 0
        self.message = ''
        self._last = time.monotonic()

    def add(self, count):
        self.done += count
        self.beat()

    def note(self, message):
        self.message = message
        self.beat(force=True)

    def beat(self, force=False):
        now = time.monotonic()
        if not force and now - self._last < CONF.task.heartbeat_interval:
            return
        self._last = now
        message = self.message
        if self.done:
            message = '%s: %d bytes done' % (message, self.done)
        try:
            db_api.task_update(self.task_id, {'heartbeat_at': models.now(),
                                              'progress': self.done,
                                              'message': message},
                               from_status='processing')
        except (exception.Conflict, exception.TaskNotFound):
            raise TaskCancelled()


def start(task, work, cleanup, holder):
    """Run ``work(task, progress)`` for a pending task in a green thread of this worker.

    ``work`` returns the task's result (a JSON-able dict); if it raises, ``cleanup(task,
    message)`` undoes what it did and the task fails with the message.
    """
    eventlet.spawn_n(_execute, task, work, cleanup, holder)


def _execute(task, work, cleanup, holder):
    notifier.task_event(None, 'task.run', task)
    try:
        task = db_api.task_update(task['id'], {'status': 'processing', 'holder': holder,
                                               'heartbeat_at': models.now(), 'progress': 0},
                                  from_status='pending')
    except (exception.Conflict, exception.TaskNotFound):
        return  # failed by housekeeping before it could start
    notifier.task_event(None, 'task.processing', task)
    progress = Progress(task['id'])
    pulse = eventlet.spawn(_pulse, progress)
    try:
        result = work(task, progress)
    except TaskCancelled:
        LOG.warning('Task %s was failed while it ran; this runner stops', task['id'])
        return
    except Exception as e:
        message = failure_message(e)
        if not isinstance(e, exception.GlanceException):
            LOG.exception('Task %s failed', task['id'])
        else:
            LOG.warning('Task %s failed: %s', task['id'], message)
        _clean_up(task, cleanup, message)
        finish(task['id'], 'failure', message=message, progress=progress.done)
        return
    finally:
        pulse.kill()
    finish(task['id'], 'success', result=result, message=progress.message,
           progress=progress.done)


def _pulse(progress):
    """Beat on time even while the work waits (a slow source): silence means death."""
    while True:
        eventlet.sleep(CONF.task.heartbeat_interval)
        try:
            progress.beat(force=True)
        except TaskCancelled:
            return  # the work notices at its own next beat
        except Exception as e:
            LOG.warning('Heartbeat of task %s failed: %s', progress.task_id, e)


def failure_message(error):
    if isinstance(error, exception.GlanceException):
        return str(error)
    return 'Unexpected error: %s' % type(error).__name__


def _clean_up(task, cleanup, message):
    try:
        cleanup(task, message)
    except Exception:
        LOG.exception('Clean-up of failed task %s failed', task['id'])


def finish(task_id, status, result=None, message='', progress=None):
    """End a task (compare-and-set from pending/processing); False if it had ended already."""
    values = {'status': status, 'message': message, 'holder': None, 'heartbeat_at': None,
              'expires_at': models.now() + datetime.timedelta(
                  hours=CONF.task.task_time_to_live)}
    if result is not None:
        values['result'] = result
    if progress is not None:
        values['progress'] = progress
    try:
        task = db_api.task_update(task_id, values, from_status=ACTIVE_STATUSES)
    except (exception.Conflict, exception.TaskNotFound):
        return False
    LOG.info('Task %s: %s%s', task_id, status, ' (%s)' % message if message else '')
    notifier.task_event(None, 'task.%s' % status, task)
    return True


def recover(cleanups, holder_gone, resumers=None):
    """Fail (or resume) the tasks whose runner is gone.

    ``cleanups`` maps a task type to its clean-up. ``resumers`` maps the types of tasks
    that can start over (they keep what they need in their input, and what they do is
    safe to do twice) to a function that runs one in this worker: such a task is taken
    over instead of failed, and its message says so.

    ``holder_gone(holder, beat)`` says whether the process ``holder``, that last beat at
    ``beat``, is dead. A pending task nobody took (its worker died right after creating it)
    counts as dead ``[task] stale_after`` seconds after its creation.
    """
    failed = 0
    stale = models.now() - datetime.timedelta(seconds=CONF.task.stale_after)
    for task in db_api.tasks_in_status(ACTIVE_STATUSES):
        if task['status'] == 'pending':
            if (task['updated_at'] or task['created_at']) > stale:
                continue
        elif not holder_gone(task['holder'], task['heartbeat_at']):
            continue
        resume = (resumers or {}).get(task['type'])
        if resume is not None:
            if take_over(task):
                LOG.warning('Task %s: its runner %s is gone; resumed here', task['id'],
                            task['holder'] or '(none took it)')
                resume(db_api.task_get(task['id']))
                failed += 1
            continue
        message = ('The glance-api worker running this task (%s) stopped before it '
                   'finished; what it had done was undone.'
                   % (task['holder'] or 'none took it'))
        # Failing it first is the claim: one sweeper cleans up, and a runner still alive
        # finds its task failed at its next beat and stops.
        if not finish(task['id'], 'failure', message=message):
            continue
        cleanup = cleanups.get(task['type'])
        if cleanup is not None:
            _clean_up(task, cleanup, message)
        LOG.warning('Task %s failed: its runner %s is gone', task['id'], task['holder'])
        failed += 1
    return failed


def take_over(task):
    """Put a task whose runner is gone back to pending (compare-and-set on its runner).

    True if this call did: two sweepers never both resume the same task.
    """
    message = ('Resumed: the glance-api worker running it (%s) stopped'
               % (task['holder'] or 'none took it'))
    try:
        db_api.task_update(task['id'], {'status': 'pending', 'holder': None,
                                        'heartbeat_at': None, 'progress': 0,
                                        'message': message},
                           from_status=task['status'], from_holder=task['holder'])
    except (exception.Conflict, exception.TaskNotFound):
        return False
    return True


def expire():
    """Delete the tasks whose time to live has passed."""
    return db_api.tasks_delete_expired(models.now())


def list_opts():
    return [('task', task_opts)]
