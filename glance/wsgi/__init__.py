"""WSGI entry points for servers other than glance's own (uWSGI, gunicorn, mod_wsgi)."""
