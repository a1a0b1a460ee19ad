"""Read-only links to image data in its backend, for trusted callers that fetch it directly.

One function per kind of store turns a location into a link: a URL, the method (always GET)
and when it stops working (None when the store cannot make it expire):

* Swift (single-tenant): a TempURL for GET on that one object, signed with the account's
  ``Temp-URL-Key`` (HMAC-SHA256 or SHA-512; Swift also accepts ``Temp-URL-Key-2``, which is
  how keys are rotated, see ``rotate_swift_key``);
* S3: a SigV4 presigned GET, signed with ``[direct_link] s3_access_key`` /
  ``s3_secret_key`` (a read-only key pair) where configured, else with the store's own keys;
* file, rbd, http: the location itself, without any credential.

The signature is the only secret a link carries; it is never logged. The store's
credentials and the Temp-URL keys never leave this module.
"""

import secrets
import threading
import time
import urllib.parse

from glance_store import location as store_location
from glance_store import multi_backend
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

link_opts = [
    cfg.IntOpt('lifetime', default=300, min=1, max=7 * 24 * 3600,
               help='Seconds an issued Swift TempURL or S3 presigned URL stays valid.'),
    cfg.StrOpt('swift_digest', default='sha256', choices=['sha256', 'sha512'],
               help='HMAC digest of Swift TempURL signatures (SHA-1 is never used).'),
    cfg.IntOpt('swift_key_cache_time', default=60, min=0,
               help='Seconds glance-api keeps a Swift account\'s storage URL and Temp-URL '
                    'key before asking Swift again.'),
    cfg.StrOpt('s3_access_key',
               help='Access key of a read-only S3 key pair that signs presigned links. '
                    'Unset: links are signed with the S3 store\'s own keys (a presigned GET '
                    'still cannot write or delete).'),
    cfg.StrOpt('s3_secret_key', secret=True,
               help='Secret key of the read-only S3 key pair (see s3_access_key).'),
]
CONF.register_opts(link_opts, group='direct_link')


class NoLink(exception.GlanceException):
    """This location cannot be turned into a direct link."""
    message = 'No direct link for this location: %(reason)s'


def _store_conf(backend_name):
    return getattr(CONF, backend_name)


def _parse(location):
    backend.configure()
    return store_location.get_location_from_uri_and_backend(
        location['url'], location['metadata'].get('store'), conf=CONF).store_location


# --- Swift -----------------------------------------------------------------------------------

_swift_accounts = {}  # backend name -> (fetched at, storage url, key)
_swift_lock = threading.Lock()


def _swift_connection(backend_name, parsed):
    store = multi_backend.get_store_from_store_identifier(backend_name)
    if not hasattr(store, 'get_connection') or not getattr(parsed, 'user', None):
        raise NoLink(reason='only single-tenant Swift stores can issue TempURLs')
    return store.get_connection(parsed)


def _swift_account(backend_name, parsed):
    """(storage url, Temp-URL key) of the account holding the backend's objects."""
    with _swift_lock:
        cached = _swift_accounts.get(backend_name)
        if cached and time.monotonic() - cached[0] < CONF.direct_link.swift_key_cache_time:
            return cached[1], cached[2]
    conn = _swift_connection(backend_name, parsed)
    try:
        storage_url, _token = conn.get_auth()
        headers = conn.head_account()
    except Exception as e:
        LOG.error('Swift store %s: could not read its account for a TempURL: %s',
                  backend_name, type(e).__name__)
        raise exception.BackendUnavailable()
    finally:
        conn.close()
    key = headers.get('x-account-meta-temp-url-key') or headers.get(
        'x-account-meta-temp-url-key-2')
    if not key:
        LOG.warning('Swift store %s has no Temp-URL key on its account: run '
                    '"glance-manage direct-link rotate-key"', backend_name)
        raise NoLink(reason='the Swift account has no Temp-URL key')
    with _swift_lock:
        _swift_accounts[backend_name] = (time.monotonic(), storage_url, key)
    return storage_url, key


def forget_swift_accounts():
    with _swift_lock:
        _swift_accounts.clear()


def swift_link(location, expires):
    backend_name = location['metadata'].get('store')
    parsed = _parse(location)
    storage_url, key = _swift_account(backend_name, parsed)
    split = urllib.parse.urlsplit(storage_url)
    path = '%s/%s/%s' % (split.path.rstrip('/'), urllib.parse.quote(parsed.container),
                         urllib.parse.quote(parsed.obj))
    from swiftclient import utils as swift_utils  # present wherever a Swift store works
    signed = swift_utils.generate_temp_url(path, expires, key, 'GET', absolute=True,
                                           digest=CONF.direct_link.swift_digest)
    return '%s://%s%s' % (split.scheme, split.netloc, signed)


def rotate_swift_key(backend_name):
    """Set a new Temp-URL key on the backend's account, keeping the old one as Key-2.

    Links signed with the old key keep working until they expire (Swift accepts either
    key); the next rotation drops it. Returns the account's storage URL (no secret).
    """
    backend.configure()
    store = multi_backend.get_store_from_store_identifier(backend_name)
    reference = _store_conf(backend_name).default_swift_reference
    parsed = None
    if hasattr(store, 'ref_params') and reference in store.ref_params:
        params = store.ref_params[reference]
        uri = 'swift+config://%s/%s/rotate' % (reference, store.container)
        parsed = store_location.get_location_from_uri_and_backend(
            uri, backend_name, conf=CONF).store_location
    if parsed is None or not params.get('user'):
        raise NoLink(reason='only single-tenant Swift stores have their own account')
    conn = _swift_connection(backend_name, parsed)
    try:
        storage_url, _token = conn.get_auth()
        old = conn.head_account().get('x-account-meta-temp-url-key')
        headers = {'X-Account-Meta-Temp-URL-Key': secrets.token_urlsafe(32)}
        if old:
            headers['X-Account-Meta-Temp-URL-Key-2'] = old
        conn.post_account(headers)
    finally:
        conn.close()
    forget_swift_accounts()
    return storage_url


# --- S3 --------------------------------------------------------------------------------------

_s3_clients = {}  # (backend name, access key) -> boto3 client


def _s3_client(backend_name):
    """The presigning client of a backend: built once (building one costs ~10 ms of CPU).

    Signing is local (no request to S3), and boto3 clients are safe to share.
    """
    conf = _store_conf(backend_name)
    access, secret = conf.s3_store_access_key, conf.s3_store_secret_key
    if CONF.direct_link.s3_access_key and CONF.direct_link.s3_secret_key:
        access, secret = CONF.direct_link.s3_access_key, CONF.direct_link.s3_secret_key
    client = _s3_clients.get((backend_name, access))
    if client is None:
        import boto3  # present wherever an S3 store works (glance_store's S3 driver needs it)
        import botocore.config
        host = conf.s3_store_host
        if '://' not in host:
            host = 'https://' + host
        style = conf.s3_store_bucket_url_format
        client = _s3_clients[(backend_name, access)] = boto3.client(
            's3', endpoint_url=host, region_name=conf.s3_store_region_name or 'us-east-1',
            aws_access_key_id=access, aws_secret_access_key=secret,
            config=botocore.config.Config(
                signature_version='s3v4',
                s3={'addressing_style': style if style in ('path', 'virtual') else 'auto'}))
    return client


def s3_link(location, expires):
    parsed = _parse(location)
    return _s3_client(location['metadata'].get('store')).generate_presigned_url(
        'get_object', Params={'Bucket': parsed.bucket, 'Key': parsed.key},
        ExpiresIn=max(1, int(expires - time.time())), HttpMethod='GET')


# --- the rest --------------------------------------------------------------------------------

def plain_link(location, expires):
    url = location['url']
    netloc = urllib.parse.urlsplit(url).netloc
    if '@' in netloc:
        raise NoLink(reason='the location carries credentials')
    return url


_MAKERS = {'swift': swift_link, 's3': s3_link, 'file': plain_link, 'rbd': plain_link,
           'http': plain_link}
EXPIRING = ('swift', 's3')


def make(location):
    """{'url', 'method', 'expires_at' (epoch seconds or None), 'store', 'kind'}."""
    backend_name = location['metadata'].get('store')
    kind = backend.backend_type(backend_name)
    maker = _MAKERS.get(kind)
    if maker is None:
        raise NoLink(reason='store %s (%s) has no direct links' % (backend_name, kind))
    expires = int(time.time()) + CONF.direct_link.lifetime if kind in EXPIRING else None
    return {'url': maker(location, expires), 'method': 'GET', 'expires_at': expires,
            'store': backend_name, 'kind': kind}


def list_opts():
    return [('direct_link', link_opts)]
