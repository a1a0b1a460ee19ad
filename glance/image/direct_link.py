"""Direct links: trusted callers fetch an image's bytes from its backend, not from Glance.

``issue(context, image_id, client_addr)`` checks the policy (``get_image_direct_link``) and
the image's status, then returns the links for the image, best first:

1. with ``[direct_link] warm_cache``, the copy in the cache of the image's stream node, as a
   ``file://`` path, to a caller on that node's host (the image is queued for prefetch there
   when it is not cached yet, so the next caller gets it);
2. one link per location of the image (glance.store.links): Swift TempURL, S3 presigned GET,
   ``file://`` (only to callers in ``[direct_link] file_clients``), ``rbd://``, http.

Every link is read-only and carries no backend credential. Each issue is logged with the
image, caller, project, stores and expiry, never the URL's signature.
"""

import datetime
import ipaddress
import socket
import time
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import stream_client as client
from glance.common import stream_nodes as nodes
from glance.image import download
from glance.image import policy as image_policy
from glance import policy
from glance.store import backend
from glance.store import links

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

direct_link_opts = [
    cfg.ListOpt('file_clients', default=[],
                help='Networks (CIDR) of callers that share the file store\'s filesystem and '
                     'may get file:// links, for example "10.0.0.0/24, 127.0.0.1/32". '
                     'Empty: nobody gets file:// links to the file store.'),
    cfg.BoolOpt('warm_cache', default=False,
                help='Issuing a link queues the image for prefetch on its glance-stream node; '
                     'once cached, a caller on that node\'s host is given the cached copy '
                     '(file:// under [cache] directory) ahead of the backend link.'),
    cfg.FloatOpt('cache_check_timeout', default=2.0, min=0.1,
                 help='Seconds glance-api waits for the stream node when warm_cache asks it '
                      'about its copy of the image; a slow node only costs the cached link.'),
]
CONF.register_opts(direct_link_opts, group='direct_link')


_networks = {}  # the file_clients value -> its parsed networks
_addresses = {}  # stream endpoint -> (resolved at, its addresses)
_ADDRESS_TTL = 60.0


def _file_clients():
    """[direct_link] file_clients, parsed once per value (a bad entry is logged once)."""
    key = tuple(CONF.direct_link.file_clients)
    if key not in _networks:
        parsed = []
        for entry in key:
            try:
                parsed.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                LOG.warning('Ignoring [direct_link] file_clients entry %r: not a network',
                            entry)
        _networks[key] = parsed
    return _networks[key]


def _in_networks(addr, networks):
    try:
        ip = ipaddress.ip_address(addr)
    except (TypeError, ValueError):
        return False
    return any(ip in network for network in networks)


def _host_addresses(endpoint):
    """The addresses of a stream node's host, resolved at most once a minute."""
    cached = _addresses.get(endpoint)
    if cached is not None and time.monotonic() - cached[0] < _ADDRESS_TTL:
        return cached[1]
    host = urllib.parse.urlsplit(endpoint).hostname
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        found = set()
    _addresses[endpoint] = (time.monotonic(), found)
    return found


def _cached_copy(image, client_addr):
    """The cached-copy link for a caller on the stream node's host, or None.

    Queues the image for prefetch on its node when the node does not hold it.
    """
    endpoint = nodes.pick(image['id'])
    path = '/cache/%s' % image['id']
    try:
        status, body = client.call(endpoint, 'GET', path,
                                   timeout=CONF.direct_link.cache_check_timeout)
    except Exception as e:
        LOG.warning('Stream node %s did not say whether it caches image %s: %s', endpoint,
                    image['id'], e)
        return None
    if status != 200 or body is None:
        return None
    if body.get('state') == 'absent':
        try:
            client.call(endpoint, 'PUT', path, timeout=CONF.direct_link.cache_check_timeout)
            LOG.info('Queued image %s for prefetch on %s (direct link issued)', image['id'],
                     endpoint)
        except Exception as e:
            LOG.warning('Could not queue image %s on %s: %s', image['id'], endpoint, e)
        return None
    if (body.get('state') != 'cached' or body.get('hash') != image['os_hash_value']
            or client_addr not in _host_addresses(endpoint)):
        return None
    return {'url': 'file://' + body['path'], 'method': 'GET', 'expires_at': None,
            'store': 'cache', 'kind': 'cache', 'node': endpoint}


def _location_links(image, client_addr):
    """(links, whether a file location was withheld because of [direct_link] file_clients)."""
    result = []
    withheld = False
    for location in backend.by_weight(image['locations']):
        kind = backend.backend_type(location['metadata'].get('store'))
        if kind == 'file' and not _in_networks(client_addr, _file_clients()):
            withheld = True
            continue
        try:
            result.append(links.make(location))
        except links.NoLink as e:
            LOG.info('Image %s: %s', image['id'], e)
    return result, withheld


def issue(context, image_id, client_addr):
    """The direct-link answer for an image: the best link's fields plus every link."""
    image = download.check_downloadable(context, image_id, action='direct_link')
    if not download.has_data(image):
        raise exception.Conflict('Image %s has no data to link to: it is %s.'
                                 % (image_id, image['status']))
    found = []
    if CONF.direct_link.warm_cache and CONF.stream.endpoints:
        cached = _cached_copy(image, client_addr)
        if cached:
            found.append(cached)
    location_links, withheld = _location_links(image, client_addr)
    found.extend(location_links)
    if not found and withheld:
        raise exception.Conflict(
            'No direct link can be issued for image %s to this caller (%s): its data is in '
            'a file store, whose links go only to callers with an address in [direct_link] '
            'file_clients of glance-api.conf (the networks that share the store '
            'filesystem, for example 127.0.0.1/32 on a single machine).'
            % (image_id, client_addr))
    if not found:
        raise exception.Conflict('No direct link can be issued for image %s to this caller: '
                                 'its stores give none.' % image_id)
    for link in found:
        if link['expires_at'] is not None:
            link['expires_at'] = _iso(link['expires_at'])
    LOG.info('Direct link issued: image %(image)s, caller %(user)s of project %(project)s '
             'from %(addr)s, stores %(stores)s, expires %(expires)s',
             {'image': image_id, 'user': context.user_id, 'project': context.project_id,
              'addr': client_addr, 'stores': ','.join(link['store'] for link in found),
              'expires': found[0]['expires_at'] or 'never'})
    best = found[0]
    return {'url': best['url'], 'method': best['method'], 'expires_at': best['expires_at'],
            'store': best['store'], 'size': image['size'], 'checksum': image['checksum'],
            'os_hash_algo': image['os_hash_algo'], 'os_hash_value': image['os_hash_value'],
            'links': found}


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def visible_locations(context, image):
    """The upstream ``direct_url`` and ``locations`` fields, as far as the caller may see.

    Shown only when ``show_image_direct_url`` / ``show_multiple_locations`` is on and the
    caller passes ``get_image_location`` (by default the same trusted callers as direct
    links); URLs never carry credentials. ``locations`` is each location's URL and
    metadata, an empty list for an image without data, as upstream.
    """
    result = {}
    if not (CONF.show_multiple_locations or (CONF.show_image_direct_url
                                             and image['locations'])):
        return result
    if not policy.check(context, 'get_image_location',
                        image_policy.image_target(context, image)):
        return result
    masked = [{'url': backend.safe_url(loc['url']), 'metadata': loc['metadata']}
              for loc in image['locations']]
    if CONF.show_image_direct_url and masked:
        result['direct_url'] = masked[0]['url']
    if CONF.show_multiple_locations:
        result['locations'] = masked
    return result


location_opts = [
    cfg.BoolOpt('show_image_direct_url', default=False,
                help='Show the image\'s first location as "direct_url" to callers allowed by '
                     'the get_image_location policy (credentials are always removed).'),
    cfg.BoolOpt('show_multiple_locations', default=False,
                help='Show every location of an image as "locations" to callers allowed by '
                     'the get_image_location policy (credentials are always removed).'),
]
CONF.register_opts(location_opts)


def list_opts():
    return [('direct_link', direct_link_opts), (None, location_opts)]
