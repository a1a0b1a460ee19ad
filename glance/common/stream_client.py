"""glance-api's calls to glance-stream nodes' cache API, signed with the ticket key.

Each call carries ``X-Glance-Cache-Auth``: HMAC over the method, the path and an expiry,
with ``[stream] ticket_key`` (see glance.common.ticket). Nodes are the ``[stream]
endpoints``.
"""

import json
import urllib.error
import urllib.request

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import stream_nodes as nodes  # noqa: F401  (registers [stream] endpoints)
from glance.common import ticket

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

AUTH_HEADER = 'X-Glance-Cache-Auth'


def call(endpoint, method, path, headers=None, timeout=10):
    """(status, decoded JSON body or None); ServiceUnavailable if the node does not answer."""
    request = urllib.request.Request(endpoint.rstrip('/') + path, method=method,
                                     headers=dict(headers or {}))
    request.add_header(AUTH_HEADER, ticket.sign_request(method, path))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    except OSError as e:
        LOG.warning('glance-stream node %s did not answer %s %s: %s', endpoint, method,
                    path, e)
        raise exception.ServiceUnavailable(reason='glance-stream node %s is unreachable'
                                           % endpoint)
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def call_all(method, path, headers=None, timeout=10):
    """{endpoint: (status, body)} for every node; an unreachable node maps to None."""
    results = {}
    for endpoint in CONF.stream.endpoints:
        try:
            results[endpoint] = call(endpoint, method, path, headers, timeout=timeout)
        except exception.ServiceUnavailable:
            results[endpoint] = None
    return results
