"""Routing and dispatch for the v2 API: routes to controller actions, body in, JSON out.

A ``Resource`` wraps a controller with an optional deserializer (turns the request into the
action's keyword arguments) and serializer (writes the action's result into the response),
the shape of upstream Glance's v2 modules. Domain errors are mapped to HTTP here, once.
"""

import contextlib

from oslo_log import log as logging
from oslo_serialization import jsonutils
import routes
import routes.middleware
import webob.dec
import webob.exc

from glance.api import fault
from glance.common import exception

LOG = logging.getLogger(__name__)


# Deeper than any body of this API needs; far below where Python's recursion would fail.
MAX_JSON_DEPTH = 32


def json_body(req, max_size=None):
    """The request body parsed as JSON, or BadRequest saying why it is not.

    Beyond JSON syntax, every string (object keys included) must be storable by every
    database engine the same way: valid Unicode (no lone surrogate such as ``"\\ud800"``)
    and without NUL, which PostgreSQL refuses and SQLite stores. Nesting is bounded too.
    """
    if not req.body:
        raise exception.BadRequest('The request has no body; a JSON object is required.')
    try:
        body = jsonutils.loads(req.body)
    except RecursionError:
        raise exception.BadRequest('The JSON in the request body is nested too deeply.')
    except ValueError as e:
        raise exception.BadRequest('Malformed JSON in request body: %s' % e)
    check_json_value(body)
    return body


def check_json_value(value):
    """Raise BadRequest unless every string in ``value`` is clean and it is not too deep."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise exception.BadRequest('The JSON in the request body is nested more '
                                           'than %d levels deep.' % MAX_JSON_DEPTH)
            if isinstance(item, dict):
                for key in item:
                    _check_string(key)
                children = item.values()
            else:
                children = item
            pending.extend((child, depth + 1) for child in children)


def _check_string(text):
    if '\x00' in text:
        raise exception.BadRequest('Strings in the request body must not contain NUL '
                                   '(\\u0000).')
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise exception.BadRequest('Strings in the request body must be valid Unicode: '
                                   '%s is a lone surrogate.'
                                   % ascii(text[_first_surrogate(text)]))


def _first_surrogate(text):
    return next(i for i, char in enumerate(text) if '\ud800' <= char <= '\udfff')


def json_response(resp, value, status=200):
    resp.status_int = status
    resp.content_type = 'application/json'
    resp.charset = 'UTF-8'
    resp.body = jsonutils.dump_as_bytes(value)


_UNQUEUED = contextlib.nullcontext()  # an action without a queue


class Resource:
    def __init__(self, controller, deserializer=None, serializer=None, queues=None):
        """A controller's actions, with their (de)serializers.

        ``queues`` maps an action to a semaphore: how many of it run at once; the others
        wait for a turn (deserialising, the call and serialising all count).
        """
        self.controller = controller
        self.deserializer = deserializer
        self.serializer = serializer
        self.queues = queues or {}

    @webob.dec.wsgify
    def __call__(self, req):
        args = dict(req.environ['wsgiorg.routing_args'][1])
        action = args.pop('action')
        args.pop('controller', None)
        args.pop('format', None)
        with self.queues.get(action, _UNQUEUED):
            return self._run(req, action, args)

    def _run(self, req, action, args):
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
