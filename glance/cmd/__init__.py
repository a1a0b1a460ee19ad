"""Console entry points. Every server process runs on eventlet, patched before anything else."""

import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

import eventlet  # noqa: E402

eventlet.monkey_patch()
