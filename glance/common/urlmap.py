"""A paste composite that sends a request to an app by path prefix.

Used to put oslo.middleware's healthcheck app (which cannot be a filter) at
``/healthcheck`` beside the service's pipeline at ``/``, as in::

    [composite:glance-api-noauth]
    use = call:glance.common.urlmap:urlmap_factory
    /: api-noauth
    /healthcheck: healthcheck
"""

import webob.exc


class URLMap:
    def __init__(self, apps):
        # Longest prefix first, so /healthcheck wins over /.
        self.apps = sorted(apps.items(), key=lambda item: len(item[0]), reverse=True)

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '') or '/'
        for prefix, app in self.apps:
            if prefix == '/':
                return app(environ, start_response)
            if path == prefix or path.startswith(prefix + '/'):
                environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + prefix
                environ['PATH_INFO'] = path[len(prefix):]
                return app(environ, start_response)
        return webob.exc.HTTPNotFound()(environ, start_response)


def urlmap_factory(loader, global_conf, **local_conf):
    apps = {}
    for prefix, name in local_conf.items():
        if not prefix.startswith('/'):
            continue
        apps[prefix.rstrip('/') or '/'] = loader.get_app(name, global_conf=global_conf)
    return URLMap(apps)
