"""Console entry points. Every server process runs on eventlet, patched before anything else."""

import eventlet

# All of it, psycopg included: psycopg2 then waits for PostgreSQL through eventlet's hub, so
# a slow query holds up no other request of the worker (PyMySQL is green through the patched
# socket module). glance/tests/functional/v2/test_list_under_load.py proves both.
eventlet.monkey_patch()
