"""glance-api as a WSGI application: ``module = glance.wsgi.api:application`` in uWSGI."""

from glance.wsgi import _app


def init_application():
    return _app.init('glance-api')


application = init_application()
