"""Console entry points. Every server process runs on eventlet, patched before anything else."""

import eventlet

eventlet.monkey_patch()
