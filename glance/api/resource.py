"""Routing and dispatch for the v2 API: routes to controller actions, body in, JSON out.

A ``Resource`` wraps a controller with an optional deserializer (turns the request into the
action's keyword arguments) and serializer (writes the action's result into the response),
the shape of upstream Glance's v2 modules. Domain errors are mapped to HTTP here, once.
"""

from oslo_log import log as logging
from oslo_serialization import jsonutils
import routes
import routes.middleware
import webob.dec
import webob.exc

from glance.api import fault
from glance.common import exception

LOG = logging.getLogger(__name__)


def json_body(req, max_size=None):
    """The request body parsed as JSON, or BadRequest saying why it is not."""
    if not req.body:
        raise exception.BadRequest('The request has no body; a JSON object is required.')
    try:
        return jsonutils.loads(req.body)
    except ValueError as e:
        raise exception.BadRequest('Malformed JSON in request body: %s' % e)


def json_response(resp, value, status=200):
    resp.status_int = status
    resp.content_type = 'application/json'
    resp.charset = 'UTF-8'
    resp.body = jsonutils.dump_as_bytes(value)


class Resource:
    def __init__(self, controller, deserializer=None, serializer=None):
        self.controller = controller
        self.deserializer = deserializer
        self.serializer = serializer

    @webob.dec.wsgify
    def __call__(self, req):
        args = dict(req.environ['wsgiorg.routing_args'][1])
        action = args.pop('action')
        args.pop('controller', None)
        args.pop('format', None)
        try:
            deserialize = getattr(self.deserializer, action, None)
            if deserialize is not None:
                args.update(deserialize(req))
            result = getattr(self.controller, action)(req, **args)
            if isinstance(result, webob.Response):
                return result
            resp = webob.Response(request=req)
            serialize = getattr(self.serializer, action, None)
            if serialize is not None:
                serialize(resp, result)
            elif result is None:
                resp.status_int = 204
            else:
                json_response(resp, result)
            return resp
        except exception.GlanceException as e:
            LOG.debug('%s %s: %s', req.method, req.path, e)
            return fault.to_http(e)
        except webob.exc.HTTPException as e:
            return e


class _MethodNotAllowed:
    def __init__(self, allowed):
        self.allowed = allowed

    @webob.dec.wsgify
    def __call__(self, req):
        return webob.exc.HTTPMethodNotAllowed(headers=[('Allow', self.allowed)])


class Router:
    """A routes.Mapper whose paths answer 405 with Allow for methods they lack."""

    def __init__(self):
        self.mapper = routes.Mapper()
        self._methods = {}

    def connect(self, path, resource, action, methods):
        for method in methods.split(','):
            self.mapper.connect(path, controller=resource, action=action,
                                conditions={'method': [method]})
        self._methods.setdefault(path, []).extend(methods.split(','))

    def finish(self):
        for path, methods in self._methods.items():
            self.mapper.connect(path, controller=_MethodNotAllowed(', '.join(methods)),
                                action='reject')
        # no method override from form fields: that would parse every POST body as a form
        # (a multipart body without a boundary was a 500)
        return routes.middleware.RoutesMiddleware(self._dispatch, self.mapper,
                                                  use_method_override=False)

    @staticmethod
    @webob.dec.wsgify
    def _dispatch(req):
        match = req.environ['wsgiorg.routing_args'][1]
        if not match:
            return webob.exc.HTTPNotFound()
        return match['controller']
