"""Build the request context that every controller receives.

Two filters, one per paste flavor: ``context`` trusts the identity headers that
keystonemiddleware's auth_token set after validating the token; ``unauthenticated_context``
(the standalone "noauth" flavor) runs every request as ``noauth_project_id`` with
``noauth_roles``, so the secure-RBAC policy defaults work with no Keystone at all.
"""

from oslo_config import cfg
from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob.dec
import webob.exc

from glance import context

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

context_opts = [
    cfg.BoolOpt('allow_anonymous_access', default=False,
                help='Let requests without a validated token through the "keystone" '
                     'flavor as an anonymous, unprivileged caller (who can see public '
                     'images only). When False they get 401.'),
]
CONF.register_opts(context_opts)


class _ContextFilter:
    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        def _filter(app):
            return cls(app)
        return _filter

    @webob.dec.wsgify
    def __call__(self, req):
        req.context = self.make_context(req)
        problem = _identity_problem(req.context)
        if problem:
            return webob.exc.HTTPBadRequest(explanation=problem)
        req.environ['glance.context'] = req.context
        return req.get_response(self.app)


# Project and user ids are stored (image owner, member) in VARCHAR(255) columns.
_MAX_ID_LENGTH = 255


def _identity_problem(ctx):
    """Why the caller's project or user id cannot be stored alike by every engine, or None."""
    for what, value in (('project', ctx.project_id), ('user', ctx.user_id)):
        if value is None:
            continue
        if len(value) > _MAX_ID_LENGTH:
            return 'The %s id is longer than %d characters.' % (what, _MAX_ID_LENGTH)
        if any(ord(char) < 0x20 or char == '\x7f' for char in value):
            return 'The %s id contains a control character.' % what
    return None


def _service_catalog(req):
    """The caller's service catalog (keystonemiddleware's X-Service-Catalog), or None.

    glance-download finds the other region's Images API in it. In the keystone flavor
    keystonemiddleware sets it from the token (a client's own header is removed); in the
    noauth flavor, where every caller is trusted, the client may send one.
    """
    header = req.headers.get('X-Service-Catalog')
    if not header:
        return None
    try:
        catalog = jsonutils.loads(header)
    except ValueError:
        raise webob.exc.HTTPBadRequest(explanation='X-Service-Catalog is not JSON.')
    if isinstance(catalog, dict):  # the v2 shape keystonemiddleware may give
        catalog = catalog.get('serviceCatalog') or catalog.get('catalog') or []
    return catalog if isinstance(catalog, list) else None


class ContextMiddleware(_ContextFilter):
    """Context from the headers keystonemiddleware set."""

    def make_context(self, req):
        if req.headers.get('X-Identity-Status', 'Confirmed') != 'Confirmed':
            if CONF.allow_anonymous_access:
                return context.RequestContext(read_only=True, is_admin=False, roles=[])
            raise webob.exc.HTTPUnauthorized()
        ctx = context.RequestContext.from_environ(
            req.environ, service_catalog=_service_catalog(req))
        return ctx


class UnauthenticatedContextMiddleware(_ContextFilter):
    """The standalone flavor: one configured project and roles, no Keystone.

    X-Project-Id, X-User-Id and X-Roles headers override the configured identity, which lets
    tests and a single trusted operator act as several projects. Only deploy this flavor where
    every caller is trusted.
    """

    def make_context(self, req):
        roles = req.headers.get('X-Roles')
        roles = ([r.strip() for r in roles.split(',') if r.strip()]
                 if roles is not None else list(CONF.noauth_roles))
        return context.RequestContext(
            project_id=req.headers.get('X-Project-Id') or CONF.noauth_project_id,
            user_id=req.headers.get('X-User-Id') or CONF.noauth_user_id,
            roles=roles,
            service_catalog=_service_catalog(req),
            request_id=req.environ.get('openstack.request_id'),
            # the caller's X-OpenStack-Request-ID, as oslo.middleware's request_id took it
            global_request_id=req.environ.get('openstack.global_request_id'))


def list_opts():
    return [(None, context_opts)]
