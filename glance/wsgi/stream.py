"""glance-stream as a WSGI application: ``module = glance.wsgi.stream:application``."""

from glance.wsgi import _app


def init_application():
    return _app.init('glance-stream')


application = init_application()
