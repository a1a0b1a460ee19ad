"""Who is asking glance-stream for bytes: a download ticket, or a Keystone token.

A request with ``?ticket=`` is authorized by the ticket alone (signed by glance-api, bound
to one image, one project and a short expiry); ``glance.ticket`` in the environ carries its
claims. Without a ticket, the "keystone" flavor accepts what glance-api would: a token
validated by keystonemiddleware's auth_token (configured with ``delay_auth_decision =
true`` so that ticket requests pass through it). The "noauth" flavor accepts tickets only:
glance-stream's port must not hand every image to whoever reaches it.

The filter only says who the caller is (``glance.context``); the image lookup after it
applies the download policy and visibility rules.
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
        self.token_context = (context_middleware.ContextMiddleware(None)
                              if fallback == 'keystone' else None)

    @webob.dec.wsgify
    def __call__(self, req):
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
                project_id=claims['project_id'], user_id=claims['user_id'],
                is_admin=claims['is_admin'],
                roles=['admin'] if claims['is_admin'] else ['reader'],
                request_id=req.environ.get('openstack.request_id'),
                global_request_id=req.environ.get('openstack.global_request_id'))
        elif self.token_context is not None:
            try:
                req.context = self.token_context.make_context(req)
            except webob.exc.HTTPException as e:
                return e
        else:
            return webob.exc.HTTPUnauthorized(
                explanation='glance-stream serves image data to requests that carry a '
                            'download ticket: ask glance-api (GET /v2/images/{id}/file).')
        req.environ['glance.context'] = req.context
        return req.get_response(self.app)


def filter_factory(global_conf, fallback='keystone', **local_conf):
    def _filter(app):
        return StreamAuth(app, fallback)
    return _filter
