"""Domain errors to HTTP responses, in one place.

Every controller raises ``glance.common.exception`` errors; ``to_http`` turns one into the
webob HTTP error with the same status and the error's message as explanation. Anything else
becomes a 500 whose body says nothing of the cause (the log has the traceback).
"""

from oslo_log import log as logging
import webob.exc

LOG = logging.getLogger(__name__)

_BY_CODE = {
    400: webob.exc.HTTPBadRequest,
    401: webob.exc.HTTPUnauthorized,
    403: webob.exc.HTTPForbidden,
    404: webob.exc.HTTPNotFound,
    405: webob.exc.HTTPMethodNotAllowed,
    409: webob.exc.HTTPConflict,
    410: webob.exc.HTTPGone,
    413: webob.exc.HTTPRequestEntityTooLarge,
    415: webob.exc.HTTPUnsupportedMediaType,
    416: webob.exc.HTTPRequestRangeNotSatisfiable,
    502: webob.exc.HTTPBadGateway,
    503: webob.exc.HTTPServiceUnavailable,
}


def to_http(error):
    """The webob HTTP exception (a response) for a domain exception."""
    cls = _BY_CODE.get(getattr(error, 'code', 500))
    if cls is None:
        LOG.error('Unmapped error %s: %s', type(error).__name__, error)
        return webob.exc.HTTPInternalServerError()
    headers = getattr(error, 'headers', None) or None
    if cls is webob.exc.HTTPUnsupportedMediaType:
        # webob's 415 template ignores the explanation; ours names the type to use.
        return cls(explanation=str(error), headers=headers, body_template='${explanation}')
    return cls(explanation=str(error), headers=headers)
