"""HTTP between glance's own services, through keystoneauth1 (no hand-written HTTP).

One keystoneauth1 Session per process gives the TLS options, the timeout and connection
reuse of ``[stream_client]``; an Adapter per call adds connect retries and forwards the
global request id: the ``X-OpenStack-Request-ID`` of the request being served (or, with
none, that request's own id), so one client call can be followed through glance-api's and
glance-stream's logs. With osprofiler enabled the trace headers go along too.

Used by glance.common.stream_client (the cache API) and glance.common.stream_nodes (health
checks), in glance-api and glance-manage.
"""

import logging as std_logging
import os

from keystoneauth1 import adapter
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_context import context as oslo_context
from osprofiler import web as profiler_web

CONF = cfg.CONF
GROUP = 'stream_client'

client_opts = [
    cfg.IntOpt('connect_retries', default=1, min=0,
               help='Times a call to a glance-stream node is tried again when the '
                    'connection fails (refused, reset, or timed out before an answer).'),
    cfg.FloatOpt('connect_retry_delay', default=0.2, min=0,
                 help='Seconds before the first connect retry (doubled at each next one).'),
]
CONF.register_opts(client_opts, group=GROUP)
# cafile, certfile, keyfile, insecure, timeout, collect_timing, split_loggers
ks_loading.register_session_conf_options(CONF, GROUP)

# keystoneauth logs each request's headers at debug level and masks only tokens; glance's
# cache calls carry a signature. This logger stays at INFO so no signature reaches a log.
_HTTP_LOG = std_logging.getLogger(__name__ + '.keystoneauth')
_HTTP_LOG.setLevel(std_logging.INFO)

_state = {'pid': None, 'session': None}


def session():
    """This process's Session (its connection pool must not cross a fork)."""
    if _state['pid'] != os.getpid():
        _state['session'] = ks_loading.load_session_from_conf_options(
            CONF, GROUP, app_name='glance')
        _state['pid'] = os.getpid()
    return _state['session']


def reset():
    """Forget the Session, so the next call reads [stream_client] again (SIGHUP, tests)."""
    _state['pid'] = _state['session'] = None


def global_request_id():
    """The id to forward: the served request's global id, else its own; None outside one."""
    current = oslo_context.get_current()
    if current is None:
        return None
    return current.global_request_id or current.request_id


def request(endpoint, method, path, headers=None, timeout=None, retries=None):
    """keystoneauth's response to one call, whatever its status.

    keystoneauth1's ConnectFailure, ConnectTimeout etc. (ClientException) are raised when
    the endpoint does not answer.
    """
    headers = dict(headers or {})
    headers.update(profiler_web.get_trace_id_headers())
    client = adapter.Adapter(
        session(), endpoint_override=endpoint.rstrip('/'), logger=_HTTP_LOG,
        connect_retries=CONF[GROUP].connect_retries if retries is None else retries,
        connect_retry_delay=CONF[GROUP].connect_retry_delay or None,
        global_request_id=global_request_id())
    kwargs = {'timeout': timeout} if timeout is not None else {}
    return client.request(path, method, headers=headers, raise_exc=False, **kwargs)


def list_opts():
    return [(GROUP, client_opts + ks_loading.get_session_conf_options())]
