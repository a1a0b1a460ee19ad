"""The signature filter in front of glance-stream's cache management app.

Every call must carry ``X-Glance-Cache-Auth``: an HMAC over the method, the path and an
expiry, made with ``[stream] ticket_key`` by glance-api or glance-manage
(glance.common.stream_client). Users never reach the cache API: a call without a valid
signature is 401, before the app sees it.
"""

from oslo_log import log as logging
import webob.dec
import webob.exc

from glance.common import exception
from glance.common import stream_client
from glance.common import ticket
from glance import context

LOG = logging.getLogger(__name__)


class CacheSignature:
    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        # The URL map strips the /cache prefix; the signature covers the full path.
        path = req.script_name + req.path_info
        try:
            ticket.verify_request(req.method, path,
                                  req.headers.get(stream_client.AUTH_HEADER, ''))
        except exception.GlanceException as e:
            LOG.warning('Refused an unsigned or badly signed cache call %s %s: %s',
                        req.method, path, e)
            return webob.exc.HTTPUnauthorized(explanation='The cache API needs a signed call.')
        # glance-api forwards its caller's request id (glance.common.http): it shows in
        # this node's log lines for the call.
        req.environ['glance.context'] = context.RequestContext(
            is_admin=True, roles=['admin'],
            request_id=req.environ.get('openstack.request_id'),
            global_request_id=req.environ.get('openstack.global_request_id'))
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return CacheSignature
