"""Who is asking glance-stream for bytes: a download ticket, or a Keystone token.

A request with ``?ticket=`` is authorized by the ticket alone (signed by glance-api, bound
to one image, one project and a short expiry); ``glance.ticket`` in the environ carries its
claims. Without a ticket the request needs what glance-api would accept: in the "keystone"
flavor a token validated by keystonemiddleware's auth_token (configured with
``delay_auth_decision = true`` so that ticket requests pass through it), in the "noauth"
flavor nothing. The stream app then applies the same download policy and visibility rules
as glance-api.
"""

import re

from oslo_log import log as logging
import webob.dec
import webob.exc

from glance.api.middleware import context as context_middleware
from glance.common import exception
from glance.common import ticket
from glance import context

LOG = logging.getLogger(__name__)

_IMAGE_PATH = re.compile(r'^/v2/images/([^/]+)/file/?$')


class StreamAuth:
    def __init__(self, app, fallback):
        self.app = app
        if fallback == 'noauth':
            self.fallback = context_middleware.UnauthenticatedContextMiddleware(None)
        else:
            self.fallback = context_middleware.ContextMiddleware(None)

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info == '/cache' or req.path_info.startswith('/cache/'):
            # glance-api's signed cache calls: the cache API checks the signature itself.
            req.context = context.RequestContext(is_admin=True, roles=['admin'])
            req.environ['glance.context'] = req.context
            return req.get_response(self.app)
        token = req.GET.get('ticket')
        if token is not None:
            match = _IMAGE_PATH.match(req.path_info)
            if not match or req.method not in ('GET', 'HEAD'):
                return webob.exc.HTTPForbidden(explanation='A ticket allows GET of image '
                                                           'data only.')
            try:
                claims = ticket.verify(token, match.group(1))
            except exception.InvalidTicket as e:
                LOG.info('Refused a download ticket for image %s', match.group(1))
                return webob.exc.HTTPUnauthorized(explanation=str(e))
            req.environ['glance.ticket'] = claims
            req.context = context.RequestContext(
                project_id=claims['project_id'], is_admin=claims['is_admin'],
                roles=['admin'] if claims['is_admin'] else ['reader'],
                request_id=req.environ.get('openstack.request_id'))
        else:
            try:
                req.context = self.fallback.make_context(req)
            except webob.exc.HTTPException as e:
                return e
        req.environ['glance.context'] = req.context
        return req.get_response(self.app)


def filter_factory(global_conf, fallback='keystone', **local_conf):
    def _filter(app):
        return StreamAuth(app, fallback)
    return _filter
