"""osprofiler in both servers' pipelines, off unless ``[profiler] enabled`` is True.

The ``osprofiler`` filter of etc/glance-api-paste.ini and etc/glance-stream-paste.ini
traces a request only when it is enabled *and* the request carries trace headers signed
with one of ``[profiler] hmac_keys`` (``openstack --os-profile KEY ...``); every other
request passes straight through. The traces go to ``[profiler] connection_string``. Calls
from glance-api to glance-stream carry the trace on (glance.common.http), so one trace
covers both servers. Example::

    [profiler]
    enabled = True
    hmac_keys = a-long-secret
    connection_string = redis://127.0.0.1:6379

The notifier that stores traces is set up in each worker at its first traced request: a
paste factory runs in the supervisor, before the workers fork.
"""

import os
import socket

from oslo_config import cfg
from osprofiler import initializer
from osprofiler import opts as profiler_opts
from osprofiler import web

CONF = cfg.CONF
profiler_opts.set_defaults(CONF)  # registers [profiler], enabled = False


class ProfilerFilter(web.WsgiMiddleware):

    def __init__(self, app, service):
        super().__init__(app, hmac_keys=CONF.profiler.hmac_keys,
                         enabled=CONF.profiler.enabled)
        self.service = service
        self._ready_in = None  # the pid whose notifier is set up

    def __call__(self, environ, start_response):
        if self.enabled and self._ready_in != os.getpid():
            initializer.init_from_conf(conf=CONF, context={}, project='glance',
                                       service=self.service, host=socket.gethostname())
            self._ready_in = os.getpid()
        return super().__call__(environ, start_response)


def filter_factory(global_conf, service='glance', **local_conf):
    def _filter(app):
        return ProfilerFilter(app, service)
    return _filter
