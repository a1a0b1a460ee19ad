"""Checking a URL a caller registers as an image's data, before Glance ever uses it.

Registering a location (``POST /v2/images/{id}/locations``, the ``/locations`` JSON patch)
makes Glance read, serve, link to and one day delete whatever the URL names, with Glance's
own backend credentials. So a URL is accepted only where it names an object in the place
one of the configured stores keeps images:

* file: a regular file inside the store's ``filesystem_store_datadir`` (or one of its
  ``filesystem_store_datadirs``), after symbolic links and ``..`` are resolved; never any
  other path on the host;
* swift (single tenant): ``swift+config://<the store's reference>/<its container>/<object>``.
  A URL carrying its own credentials or auth address would make Glance log in elsewhere;
  multi-tenant stores (objects in the users' accounts) take no registered locations;
* s3: ``s3[+http|+https]://<the store's host>/<its bucket>/<key>``;
* rbd: ``rbd://<fsid>/<the store's pool>/<image>/<snapshot>``;
* http: an http(s) URL. Whether glance-api may reach its host (the web-download rules:
  public addresses only) is checked by the caller, glance.image.locations, before this;
* cinder: what the cinder driver accepts (``cinder://<volume id>``), sized through Cinder.

glance_store then parses the URL for that store (its own validation) and gives the object's
size, which also proves that the object exists. Whether the object already belongs to
another image is the caller's question (glance.image.locations): this module knows stores,
not images. Every refusal is a ``LocationRefused`` (400) saying what was refused and why.
"""

import os
import urllib.parse

from glance_store import exceptions as store_exc
from glance_store import location as store_location
from glance_store import multi_backend
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# The URL schemes each kind of store reads (glance_store's get_schemes()).
_SCHEMES = {
    'file': ('file', 'filesystem'),
    'swift': ('swift+config',),
    's3': ('s3', 's3+http', 's3+https'),
    'rbd': ('rbd',),
    'http': ('http', 'https'),
    'cinder': ('cinder',),
}
# Stores whose objects only Glance writes: an object there that another image already uses
# is that image's data, never a second image's.
PRIVATE_KINDS = ('file', 'swift', 's3', 'rbd', 'cinder')
MAX_URL = 2048  # what the locations table holds comfortably, and any store's URL needs


class LocationRefused(exception.BadRequest):
    message = 'Location refused: %(reason)s'


def _stores_taking(scheme):
    return [name for name, kind in CONF.enabled_backends.items()
            if scheme in _SCHEMES.get(kind, ())]


def _conf(store):
    return getattr(CONF, store)


def _check_file(url, store):
    """The file's canonical URL: a regular file inside one of the store's directories."""
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parts.netloc + parts.path)
    if not path.startswith('/') or parts.query or parts.fragment:
        raise LocationRefused(reason='a file location is file:///absolute/path, nothing more')
    conf = _conf(store)
    roots = [d.rsplit(':', 1)[0] for d in conf.filesystem_store_datadirs or []]
    roots.append(conf.filesystem_store_datadir)
    real = os.path.realpath(path)
    for root in filter(None, roots):
        root = os.path.realpath(root)
        if os.path.commonpath([root, real]) == root and real != root:
            if not os.path.isfile(real):
                raise LocationRefused(reason='there is no file at %s' % path)
            return 'file://' + real
    raise LocationRefused(reason='%s is not inside the directory of store %s' % (path, store))


def _check_swift(url, store, parsed):
    conf = _conf(store)
    if conf.swift_store_multi_tenant:
        raise LocationRefused(reason='store %s is multi-tenant Swift, whose objects live in '
                                     'the users\' accounts: it takes no registered locations'
                              % store)
    reference = urllib.parse.urlsplit(url).netloc
    if reference != conf.default_swift_reference:
        raise LocationRefused(reason='a location in store %s is swift+config://%s/...'
                              % (store, conf.default_swift_reference))
    container = conf.swift_store_container
    seeded = (conf.swift_store_multiple_containers_seed
              and parsed.container.startswith(container + '_'))
    if parsed.container != container and not seeded:
        raise LocationRefused(reason='container %s is not the container of store %s'
                              % (parsed.container, store))


def _check_s3(store, parsed):
    conf = _conf(store)
    host = conf.s3_store_host
    for prefix in ('http://', 'https://'):
        if host.startswith(prefix):
            host = host[len(prefix):]
    if parsed.s3serviceurl.rstrip('/') != host.rstrip('/'):
        raise LocationRefused(reason='host %s is not the host of store %s'
                              % (parsed.s3serviceurl, store))
    if parsed.bucket != conf.s3_store_bucket:
        raise LocationRefused(reason='bucket %s is not the bucket of store %s'
                              % (parsed.bucket, store))


def _check_rbd(store, parsed):
    pool = _conf(store).rbd_store_pool
    if getattr(parsed, 'pool', None) not in (None, pool):
        raise LocationRefused(reason='pool %s is not the pool of store %s'
                              % (parsed.pool, store))


def _check_in(url, store):
    """(canonical url) if ``url`` names an object of ``store``, else LocationRefused."""
    kind = backend.backend_type(store)
    if kind == 'file':
        url = _check_file(url, store)
    try:
        parsed = store_location.get_location_from_uri_and_backend(
            url, store, conf=CONF).store_location
    except (store_exc.BadStoreUri, store_exc.UnknownScheme) as e:
        raise LocationRefused(reason='store %s cannot read this URL (%s)'
                              % (store, getattr(e, 'msg', None) or type(e).__name__))
    if kind == 'swift':
        _check_swift(url, store, parsed)
    elif kind == 's3':
        _check_s3(store, parsed)
    elif kind == 'rbd':
        _check_rbd(store, parsed)
    return url


def check(url, store=None, context=None, size=None):
    """(url, store, size) for a URL to register, or LocationRefused.

    ``store``, when the caller names one, is the only store tried; otherwise the first
    configured store that holds the URL. The returned url is canonical (a file path with
    links resolved), the size the store's unless the caller found it already (``size``).
    """
    backend.configure()
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise LocationRefused(reason='a location is a URL of at most %d characters'
                              % MAX_URL)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    candidates = _stores_taking(scheme)
    if store is not None:
        if store not in CONF.enabled_backends:
            raise LocationRefused(reason='there is no store %s' % store)
        if store not in candidates:
            raise LocationRefused(reason='store %s does not take %s URLs' % (store, scheme))
        candidates = [store]
    if not candidates:
        raise LocationRefused(reason='no configured store takes %s URLs (stores: %s)'
                              % (scheme or 'scheme-less', ', '.join(
                                  '%s:%s' % kv for kv in CONF.enabled_backends.items())))
    refusals = []
    for name in candidates:
        try:
            canonical = _check_in(url, name)
        except LocationRefused as e:
            refusals.append(e)
            continue
        return canonical, name, size or _size(canonical, name, context)
    if len(refusals) == 1:
        raise refusals[0]
    raise LocationRefused(reason='; '.join(e.kwargs['reason'] for e in refusals))


def _size(url, store, context):
    try:
        size = multi_backend.get_size_from_uri_and_backend(url, store, context=context)
    except store_exc.NotFound:
        raise LocationRefused(reason='store %s has no data at this URL' % store)
    except (store_exc.BadStoreUri, store_exc.UnknownScheme) as e:
        raise LocationRefused(reason='store %s cannot read this URL (%s)'
                              % (store, type(e).__name__))
    except Exception as e:
        LOG.warning('Store %s could not size a location being registered: %s', store,
                    type(e).__name__)
        raise exception.BackendUnavailable()
    if not size:
        # glance_store's drivers answer 0 for some objects they cannot find (Swift)
        raise LocationRefused(reason='store %s has no data at this URL (the object is '
                                     'missing or empty)' % store)
    return size
