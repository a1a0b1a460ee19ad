"""Test suite. Servers run on eventlet, so the test processes are monkey-patched the same way."""

import eventlet

eventlet.monkey_patch()
