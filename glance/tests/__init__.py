"""Test suite. Servers run on eventlet, so the test processes are monkey-patched the same way."""

import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

import eventlet  # noqa: E402

eventlet.monkey_patch()
