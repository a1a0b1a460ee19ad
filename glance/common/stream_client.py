"""glance-api's and glance-manage's calls to glance-stream nodes' cache API, signed.

Each call carries ``X-Glance-Cache-Auth``: an HMAC over the method, the path and an expiry,
with ``[stream] ticket_key`` (see glance.common.ticket). Nodes are the ``[stream]
endpoints``. The HTTP goes through keystoneauth1 (glance.common.http): TLS options,
timeouts, connect retries and the global request id.
"""

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import http
from glance.common import stream_nodes as nodes  # noqa: F401  (registers [stream] endpoints)
from glance.common import ticket

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

AUTH_HEADER = 'X-Glance-Cache-Auth'


def call(endpoint, method, path, headers=None, timeout=10):
    """(status, decoded JSON body or None); ServiceUnavailable if the node does not answer."""
    headers = dict(headers or {})
    headers[AUTH_HEADER] = ticket.sign_request(method, path)
    try:
        resp = http.request(endpoint, method, path, headers, timeout=timeout)
    except ks_exc.ClientException as e:
        LOG.warning('glance-stream node %s did not answer %s %s: %s', endpoint, method,
                    path, e)
        raise exception.ServiceUnavailable(reason='glance-stream node %s is unreachable'
                                           % endpoint)
    try:
        return resp.status_code, resp.json() if resp.content else None
    except ValueError:
        return resp.status_code, None


def call_all(method, path, headers=None, timeout=10):
    """{endpoint: (status, body)} for every node; an unreachable node maps to None."""
    results = {}
    for endpoint in CONF.stream.endpoints:
        try:
            results[endpoint] = call(endpoint, method, path, headers, timeout=timeout)
        except exception.ServiceUnavailable:
            results[endpoint] = None
    return results
