"""Refuse requests whose path or query string no layer behind could handle: 400, not 500.

A URL is bytes; every layer behind this filter (routing, webob, the database drivers) reads
it as UTF-8 text. Invalid UTF-8 (``%FF``, or a lone surrogate such as ``%ED%A0%80``) would
blow up deep inside one of them with a traceback, and a NUL byte (``%00``) is refused by
PostgreSQL while SQLite stores it, so the same request would answer differently per engine.
This filter checks the path and every query parameter name and value, percent-decoded, once
and early, and answers ``400 Bad Request`` naming the part at fault. It needs no
configuration and nothing from the rest of glance, so it fits any pipeline: put it first,
right after ``request_id``::

    [filter:sanity]
    paste.filter_factory = glance.api.middleware.sanity:filter_factory

    [pipeline:glance-api-keystone-pipeline]
    pipeline = request_id sanity http_proxy_to_wsgi ...
"""

import urllib.parse

import webob.exc

# Control characters no identifier, name or filter has any use for (TAB, LF and CR included:
# they only ever arrive in a URL to forge log lines or headers).
_FORBIDDEN = frozenset(chr(c) for c in range(0x20)) | {'\x7f'}


def _wsgi_bytes(raw):
    """The bytes a WSGI string stands for (PEP 3333: one latin-1 code point per byte)."""
    try:
        return raw.encode('latin-1')
    except UnicodeEncodeError:  # not a conforming server; judge the text as it is
        return raw.encode('utf-8', 'surrogatepass')


def _problem(data):
    """Why ``data`` (bytes, already percent-decoded) is unusable as text, or None."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return 'is not valid UTF-8'
    if any(char in _FORBIDDEN for char in text):
        return 'contains a control character (such as NUL)'
    return None


def _query_problem(query):
    for item in query.replace(';', '&').split('&'):
        name, _, value = item.partition('=')
        for part, what in ((name, 'name'), (value, 'value')):
            # "+" means space in a query; it is fine either way, so only percent-decode.
            problem = _problem(urllib.parse.unquote_to_bytes(_wsgi_bytes(part)))
            if problem:
                return 'A query parameter %s %s.' % (what, problem)
    return None


def check(environ):
    """The reason this request's path or query is unusable, or None when it is fine."""
    for key in ('SCRIPT_NAME', 'PATH_INFO'):
        # WSGI hands the path already percent-decoded.
        problem = _problem(_wsgi_bytes(environ.get(key, '')))
        if problem:
            return 'The request path %s.' % problem
    return _query_problem(environ.get('QUERY_STRING', ''))


class RequestSanity:
    """The WSGI filter: 400 for a request ``check`` refuses, else the next application."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        reason = check(environ)
        if reason is None:
            return self.app(environ, start_response)
        return webob.exc.HTTPBadRequest(explanation=reason)(environ, start_response)


def filter_factory(global_conf, **local_conf):
    """Paste filter factory: the filter takes no options."""
    return RequestSanity
