"""The versions document (``GET /`` and ``GET /versions``) and version negotiation.

Clients and keystoneauth's discovery read the versions list to find the v2 endpoint; the
negotiation filter maps ``/v2.N/...`` and the ``application/vnd.openstack.images-v2.N`` media
type onto ``/v2/...`` and answers ``300 Multiple Choices`` for a version the server lacks,
as upstream Glance does.
"""

import re

from oslo_config import cfg
from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob.dec
import webob.exc

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# The Images API v2 minor versions this server implements, and what each adds (from
# upstream's API reference). A version is advertised only when its features are here:
# glance/tests/functional/v2/test_versions.py walks them on a running server.
VERSION_FEATURES = {
    0: 'images, image data, tags, schemas',
    1: 'image members',
    2: 'image member status',
    3: 'image list filters and sorting',
    4: 'tasks (/v2/tasks)',
    5: 'community visibility',
    6: 'interoperable image import: stage, import, GET /v2/info/import',
    7: 'os_hidden and the multihash (os_hash_algo, os_hash_value)',
    8: 'multiple stores: GET /v2/info/stores, X-Image-Meta-Store, OpenStack-image-store-ids',
    9: 'import into several stores (stores, all_stores, all_stores_must_succeed), '
       'copy-image, os_glance_importing_to_stores / os_glance_failed_import',
    10: 'DELETE /v2/stores/{store_id}/{image_id}',
    11: 'the import lock (os_glance_import_task)',
    12: 'GET /v2/images/{image_id}/tasks',
    13: 'GET /v2/info/usage',
    14: 'the cache API (/v2/cache)',
    15: 'GET /v2/info/stores/detail',
    16: 'images queued with PUT /v2/cache/{image_id} are cached by the server itself (no '
        'separate prefetcher to run)',
    17: 'POST and GET /v2/images/{image_id}/locations (data registered by location, hashed '
        'in the background)',
}
MINOR_VERSIONS = sorted(VERSION_FEATURES)
CURRENT_MINOR = MINOR_VERSIONS[-1]

versions_opts = [
    cfg.StrOpt('public_endpoint',
               help='Public URL of this API, used in the versions document\'s links when the '
                    'server sits behind a proxy that rewrites the host. Defaults to the URL '
                    'the request came in on (http_proxy_to_wsgi honours the '
                    'X-Forwarded-Proto and X-Forwarded-Host headers).'),
]
CONF.register_opts(versions_opts)


def versions_document(host_url):
    base = (CONF.public_endpoint or host_url).rstrip('/')
    versions = []
    for minor in reversed(MINOR_VERSIONS):
        versions.append({
            'id': 'v2.%d' % minor,
            'status': 'CURRENT' if minor == CURRENT_MINOR else 'SUPPORTED',
            'links': [{'rel': 'self', 'href': '%s/v2/' % base}],
        })
    return {'versions': versions}


def _versions_response(req, status):
    resp = webob.Response(request=req, status=status, content_type='application/json',
                          charset='UTF-8')
    resp.body = jsonutils.dump_as_bytes(versions_document(req.host_url))
    return resp


class VersionsApp:
    """``GET /versions`` answers 200; anything else that reaches here 300."""

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.rstrip('/') == '/versions' and req.method in ('GET', 'HEAD'):
            return _versions_response(req, 200)
        return _versions_response(req, 300)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()


_PATH_VERSION = re.compile(r'^/v(\d+)(?:\.(\d+))?(/.*)?$')
_MEDIA_VERSION = re.compile(r'application/vnd\.openstack\.images-v(\d+)(?:\.(\d+))?')


def _supported(major, minor):
    return major == 2 and (minor is None or int(minor) in MINOR_VERSIONS)


class VersionNegotiationFilter:
    """Route a request to /v2 or to the versions document."""

    def __init__(self, app):
        self.app = app
        self.versions = VersionsApp()

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info
        if path in ('', '/') or path.rstrip('/') == '/versions':
            return self.versions(req) if req.method in ('GET', 'HEAD') else \
                webob.exc.HTTPMethodNotAllowed()
        match = _PATH_VERSION.match(path)
        if match:
            major, minor, rest = int(match.group(1)), match.group(2), match.group(3) or ''
            if not _supported(major, minor):
                LOG.debug('Unknown API version in path %s', path)
                return _versions_response(req, 300)
            req.path_info = '/v2' + rest
            req.environ['api.version'] = (2, int(minor) if minor else CURRENT_MINOR)
            return req.get_response(self.app)
        media = _MEDIA_VERSION.search(req.headers.get('Accept', ''))
        if media and _supported(int(media.group(1)), media.group(2)):
            req.path_info = '/v2' + path
            return req.get_response(self.app)
        return _versions_response(req, 300)


def list_opts():
    return [(None, versions_opts)]
