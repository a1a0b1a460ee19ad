"""Whether a process of this host still runs, for code that records its writers by pid.

Housekeeping (glance.image.recovery) asks it of the process that holds an upload, a stage or
a task; the functional tests ask it of the process that reserved a port.
"""

import os


def pid_alive(pid):
    """Whether process ``pid`` of this host still runs (a zombie does not).

    A worker killed with its parent is re-parented to whatever reaps orphans; until that
    happens (in a container whose first process reaps nothing: never) it is a zombie that
    answers signal 0 but will never beat again. A process another user owns is alive: it
    is only ours to signal that we may not.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to tell: signal 0 said it runs
    return state != 'Z'
