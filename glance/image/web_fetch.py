"""Fetching image data from a URL for web-download imports, without becoming an SSRF proxy.

A web-download import makes glance-api fetch a URL its caller chose, from inside the
cloud's network. Upstream's ``[import_filtering_opts]`` (allow/deny lists of schemes, hosts
and ports) apply to the URL given and to every redirect, and on top of them:

* an address that is loopback, link-local (169.254.169.254, the metadata service),
  private, carrier-grade NAT, multicast, reserved or unspecified is refused, unless the host
  as written in the URL is listed in ``allowed_private_hosts``;
* the check is made on the **DNS answer actually connected to**, not on the name: the
  connection is opened to an address that passed the check, so a name that resolves to a
  private address (or changes its answer between a check and the connection) gets nowhere;
* redirects are followed by hand, at most ``max_redirects``, each one checked again;
* the body is read with an inactivity ``timeout`` and stops at the image size cap (or the
  project's remaining quota).

Every refusal is a ``WebDownloadRefused`` (400) whose message says what was refused and why:
it becomes the import task's message.
"""

import http.client
import ipaddress
import socket
import ssl
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

filtering_opts = [
    cfg.ListOpt('allowed_schemes', default=['http', 'https'],
                help='URL schemes a web-download may use. When set, only these; '
                     'disallowed_schemes is then ignored.'),
    cfg.ListOpt('disallowed_schemes', default=[],
                help='URL schemes a web-download may not use (when allowed_schemes is '
                     'empty).'),
    cfg.ListOpt('allowed_hosts', default=[],
                help='Hosts (names or IP addresses, as written in the URL) a web-download '
                     'may fetch from. When set, only these; disallowed_hosts is then '
                     'ignored.'),
    cfg.ListOpt('disallowed_hosts', default=[],
                help='Hosts a web-download may not fetch from (when allowed_hosts is '
                     'empty).'),
    cfg.ListOpt('allowed_ports', default=['80', '443'],
                help='Ports a web-download may connect to. When set, only these; '
                     'disallowed_ports is then ignored. Empty: any port not disallowed.'),
    cfg.ListOpt('disallowed_ports', default=[],
                help='Ports a web-download may not connect to (when allowed_ports is '
                     'empty).'),
    cfg.ListOpt('allowed_private_hosts', default=[],
                help='Hosts (names or addresses, as written in the URL) that a web-download '
                     'may reach even though they resolve to a loopback, link-local, private '
                     'or other non-public address. Every other host must resolve to public '
                     'addresses only: this is what keeps web-download from reading the '
                     'metadata service (169.254.169.254) or internal services (SSRF). A '
                     'redirect to a host not listed here is checked the same way.'),
    cfg.IntOpt('max_redirects', default=5, min=0,
               help='Redirects a web-download follows (each checked like the first URL).'),
    cfg.IntOpt('timeout', default=60, min=1,
               help='Seconds a web-download waits for a connection or for more data before '
                    'it fails.'),
]
CONF.register_opts(filtering_opts, group='import_filtering_opts')

_CHUNK = units.Mi
_REDIRECTS = (301, 302, 303, 307, 308)


class WebDownloadRefused(exception.BadRequest):
    message = 'web-download refused: %(reason)s'


def _opts():
    return CONF.import_filtering_opts


def _listed(value, allowed, disallowed):
    if allowed:
        return value in allowed
    return value not in disallowed


def check_url(url):
    """Raise WebDownloadRefused unless the URL passes the scheme, host and port filters.

    Returns (scheme, host, port, path with query).
    """
    opts = _opts()
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise WebDownloadRefused(reason='%s is not a valid URL (%s)' % (url[:200], e))
    scheme = parts.scheme.lower()
    host = (parts.hostname or '').lower()
    if scheme not in ('http', 'https'):
        raise WebDownloadRefused(reason='the scheme "%s" is not supported (http, https)'
                                 % scheme)
    if not _listed(scheme, [s.lower() for s in opts.allowed_schemes],
                   [s.lower() for s in opts.disallowed_schemes]):
        raise WebDownloadRefused(reason='the scheme "%s" is not allowed' % scheme)
    if not host:
        raise WebDownloadRefused(reason='%s names no host' % url[:200])
    if not _listed(host, [h.lower() for h in opts.allowed_hosts],
                   [h.lower() for h in opts.disallowed_hosts]):
        raise WebDownloadRefused(reason='the host "%s" is not allowed' % host)
    port = port or (443 if scheme == 'https' else 80)
    if not _listed(str(port), [str(p) for p in opts.allowed_ports],
                   [str(p) for p in opts.disallowed_ports]):
        raise WebDownloadRefused(reason='the port %d is not allowed' % port)
    target = parts.path or '/'
    if parts.query:
        target += '?' + parts.query
    return scheme, host, port, target


def _non_public(address):
    """Why an address is not a public one, or None if it is."""
    ip = ipaddress.ip_address(address.split('%', 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, kind in (('is_loopback', 'loopback'), ('is_link_local', 'link-local'),
                            ('is_unspecified', 'unspecified'), ('is_multicast', 'multicast'),
                            ('is_private', 'private'), ('is_reserved', 'reserved')):
        if getattr(ip, attribute):
            return kind
    if not ip.is_global:  # 100.64.0.0/10 (carrier-grade NAT) and the like
        return 'non-public'
    return None


def _may_reach(host, address):
    """None if ``host`` may connect to ``address``, else why not."""
    kind = _non_public(address)
    if kind is None or host in [h.lower() for h in _opts().allowed_private_hosts]:
        return None
    return kind


def size_of(url):
    """The Content-Length of ``url``, fetched under these rules without reading the body.

    For a URL registered as an image location, which glance_store will read later following
    redirects on its own: one that redirects is refused (register where it leads), and so
    is one whose server does not say how large it is.
    """
    response = open_url(url, max_redirects=0)
    try:
        if response.length is None:
            raise WebDownloadRefused(reason='%s does not say how large it is (no '
                                            'Content-Length)' % _safe(url))
        return response.length
    finally:
        response.close()


def open_checked(host, port, timeout):
    """A socket connected to an address of ``host`` that passed the address check."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise WebDownloadRefused(reason='the host "%s" cannot be resolved (%s)'
                                 % (host, e.strerror or e))
    refused, failure = [], None
    for family, kind, proto, _name, sockaddr in answers:
        why = _may_reach(host, sockaddr[0])
        if why is not None:
            refused.append('%s (%s)' % (sockaddr[0], why))
            continue
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            failure = e
    if refused and failure is None:
        raise WebDownloadRefused(reason='the host "%s" resolves to %s: not a public address'
                                 % (host, ', '.join(refused)))
    raise WebDownloadRefused(reason='cannot connect to %s:%d (%s)'
                             % (host, port, _describe(failure)))


def _describe(error):
    if isinstance(error, (socket.timeout, TimeoutError)):
        return 'timed out'
    return getattr(error, 'strerror', None) or str(error) or type(error).__name__


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = open_checked(self.host, self.port, self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPSConnection, _CheckedHTTPConnection):
    """HTTPS whose TCP connection is _CheckedHTTPConnection's (TLS verifies the name)."""


class Response:
    """An open response: ``length`` (or None) and ``chunks()``, read with the timeout."""

    def __init__(self, url, connection, response):
        self.url = url
        self._connection = connection
        self._response = response
        length = response.getheader('Content-Length')
        self.length = int(length) if length and length.isdigit() else None

    def chunks(self, limit, limit_error):
        read = 0
        try:
            if self.length is not None and self.length > limit:
                raise limit_error()
            while True:
                try:
                    chunk = self._response.read1(_CHUNK)
                except (socket.timeout, TimeoutError):
                    raise WebDownloadRefused(reason='%s sent no data for %d seconds'
                                             % (_safe(self.url), _opts().timeout))
                except (OSError, http.client.HTTPException) as e:
                    raise WebDownloadRefused(reason='reading %s failed (%s)'
                                             % (_safe(self.url), _describe(e)))
                if not chunk:
                    break
                read += len(chunk)
                if read > limit:
                    raise limit_error()
                yield chunk
            if self.length is not None and read != self.length:
                raise WebDownloadRefused(reason='%s ended after %d of %d bytes'
                                         % (_safe(self.url), read, self.length))
        finally:
            self.close()

    def close(self):
        self._connection.close()


def _safe(url):
    """The URL without credentials or query, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.hostname or ''
    if parts.port:
        netloc += ':%d' % parts.port
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, '', ''))


def open_url(url, max_redirects=None):
    """GET ``url``, following checked redirects; returns a Response with status 200."""
    timeout = _opts().timeout
    if max_redirects is None:
        max_redirects = _opts().max_redirects
    for _hop in range(max_redirects + 1):
        scheme, host, port, target = check_url(url)
        if scheme == 'https':
            connection = _CheckedHTTPSConnection(host, port, timeout=timeout,
                                                 context=ssl.create_default_context())
        else:
            connection = _CheckedHTTPConnection(host, port, timeout=timeout)
        try:
            connection.request('GET', target, headers={
                'User-Agent': 'glance-web-download', 'Accept': '*/*'})
            response = connection.getresponse()
        except WebDownloadRefused:
            connection.close()
            raise
        except (socket.timeout, TimeoutError):
            connection.close()
            raise WebDownloadRefused(reason='%s did not answer within %d seconds'
                                     % (_safe(url), timeout))
        except (OSError, http.client.HTTPException) as e:
            connection.close()
            raise WebDownloadRefused(reason='%s could not be fetched (%s)'
                                     % (_safe(url), _describe(e)))
        if response.status in _REDIRECTS:
            location = response.getheader('Location')
            connection.close()
            if not location:
                raise WebDownloadRefused(reason='%s redirects nowhere' % _safe(url))
            url = urllib.parse.urljoin(url, location)
            continue
        if response.status != 200:
            connection.close()
            raise WebDownloadRefused(reason='%s answered %d %s'
                                     % (_safe(url), response.status, response.reason))
        return Response(url, connection, response)
    raise WebDownloadRefused(reason='more than %d redirects' % max_redirects)


def list_opts():
    return [('import_filtering_opts', filtering_opts)]
