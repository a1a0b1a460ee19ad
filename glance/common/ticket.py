"""Download tickets: glance-api's signed permission for one GET of one image's data.

A ticket is ``<payload>.<signature>``, both base64url: the payload names the method (GET),
the image, the caller's project, whether the caller is an admin and the expiry time; the
signature is HMAC-SHA256 of the payload with ``[stream] ticket_key``. glance-stream accepts
tickets signed with ``ticket_key`` or ``ticket_key_previous``, so keys can be rotated without
refusing tickets in flight: set the new key as ``ticket_key`` and the old as
``ticket_key_previous`` on every stream node first, then on glance-api. Tickets never carry a
backend location or credential.

A ticket is a bearer credential while it lives: glance-stream refuses one whose expiry lies
further ahead than ``ticket_lifetime`` (plus ``_CLOCK_SKEW`` for nodes whose clocks differ a
little), so even a leaked signing key cannot mint long-lived tickets unnoticed, and the
servers' access logs mask ``ticket=`` values (glance.common.wsgi). Anything malformed (bad
base64, a payload that is not a JSON object, missing or mistyped claims) is refused with the
same InvalidTicket (401) as a bad signature.
"""

import base64
import hashlib
import hmac
import time

from oslo_config import cfg
from oslo_serialization import jsonutils

from glance.common import exception

CONF = cfg.CONF

ticket_opts = [
    cfg.StrOpt('ticket_key', secret=True,
               help='Key that signs download tickets (glance-api) and checks them '
                    '(glance-stream); the same on every node. Use 32 or more random '
                    'bytes, e.g. "python3 -c \'import secrets; '
                    'print(secrets.token_hex(32))\'". Required for downloads through '
                    'glance-stream.'),
    cfg.StrOpt('ticket_key_previous', secret=True,
               help='The key before the current ticket_key, still accepted by glance-stream '
                    'during a key rotation. Remove it once every glance-api signs with the '
                    'new key and the old tickets have expired.'),
    cfg.IntOpt('ticket_lifetime', default=60, min=1,
               help='Seconds a download ticket stays valid. A client follows the redirect '
                    'at once, so this only needs to cover clock skew and slow clients.'),
]
CONF.register_opts(ticket_opts, group='stream')

# Seconds of clock difference between glance-api and glance-stream nodes tolerated when
# checking that a ticket does not outlive ticket_lifetime.
_CLOCK_SKEW = 30


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def _sign(key, payload):
    return hmac.new(key.encode('utf-8'), payload.encode('ascii'), hashlib.sha256).digest()


def _signed(message, signature):
    """True if ``signature`` is the text ``sign`` writes for ``message`` with a current key.

    The text itself is compared, not the bytes it decodes to: the last character of an
    unpadded base64 MAC carries bits no decoder looks at, so several texts decode alike,
    and a ticket whose text was changed must not pass.
    """
    return any(hmac.compare_digest(_b64(_sign(key, message)), signature) for key in _keys())


def _keys():
    keys = [k for k in (CONF.stream.ticket_key, CONF.stream.ticket_key_previous) if k]
    if not keys:
        raise exception.ConfigError(reason='[stream] ticket_key is not set')
    return keys


def sign(image_id, project_id, is_admin=False, lifetime=None, now=None, user_id=None):
    """A ticket for one GET of ``image_id`` by ``project_id``.

    ``user_id``, when given, rides along for the stream node's ``image.send``
    notification (who received the image); it grants nothing.
    """
    now = time.time() if now is None else now
    expires = int(now + (lifetime or CONF.stream.ticket_lifetime))
    claims = {'m': 'GET', 'i': image_id, 'p': project_id, 'a': bool(is_admin), 'e': expires}
    if user_id is not None:
        claims['u'] = user_id
    payload = _b64(jsonutils.dump_as_bytes(claims))
    return '%s.%s' % (payload, _b64(_sign(_keys()[0], payload)))


def verify(ticket, image_id, method='GET', now=None):
    """The ticket's claims ({'project_id', 'user_id', 'is_admin', 'expires'}) or InvalidTicket.

    The same answer, without detail, for a forged, expired or misused ticket: the caller
    learns nothing from the difference.
    """
    try:
        payload, signature = ticket.split('.')
        valid = _signed(payload, signature)
        claims = jsonutils.loads(_unb64(payload)) if valid else None
    except (ValueError, TypeError, AttributeError, RecursionError):
        raise exception.InvalidTicket()
    now = time.time() if now is None else now
    if (not isinstance(claims, dict) or claims.get('m') != method
            or claims.get('i') != image_id or not _valid_expiry(claims.get('e'), now)
            or not isinstance(claims.get('p'), (str, type(None)))
            or not isinstance(claims.get('u'), (str, type(None)))):
        raise exception.InvalidTicket()
    return {'project_id': claims.get('p'), 'user_id': claims.get('u'),
            'is_admin': claims.get('a') is True, 'expires': claims['e']}


def _valid_expiry(expires, now):
    """An integer time not past and not beyond the configured lifetime from now."""
    return (isinstance(expires, int) and not isinstance(expires, bool)
            and now <= expires <= now + CONF.stream.ticket_lifetime + _CLOCK_SKEW)


def sign_request(method, path, lifetime=None, now=None):
    """A token for one admin call from glance-api to a glance-stream node (cache API)."""
    now = time.time() if now is None else now
    expires = int(now + (lifetime or CONF.stream.ticket_lifetime))
    message = '%s\n%s\n%d' % (method.upper(), path, expires)
    return '%d.%s' % (expires, _b64(_sign(_keys()[0], message)))


def verify_request(method, path, token, now=None):
    """Raise InvalidTicket unless ``token`` signs this method and path and is unexpired."""
    try:
        expires, signature = token.split('.')
        if not expires.isdigit():
            raise ValueError('not a time')
        expires = int(expires)
        message = '%s\n%s\n%d' % (method.upper(), path, expires)
        valid = _signed(message, signature)
    except (ValueError, TypeError, AttributeError):
        raise exception.InvalidTicket()
    now = time.time() if now is None else now
    if not valid or not _valid_expiry(expires, now):
        raise exception.InvalidTicket()


def list_opts():
    return [('stream', ticket_opts)]
