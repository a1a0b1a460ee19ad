"""The glance-download import method: an image's data and properties from another region's
Images API, found through the caller's Keystone service catalog.

``{"method": {"name": "glance-download", "glance_image_id": <id>, "glance_region":
<region>, "glance_service_interface": "public"}}`` (as upstream). The remote Images API is
the ``image`` endpoint of that region and interface in the catalog that came with the
caller's token, so only a glance the cloud itself lists is ever called. It is called with
the caller's token, through keystoneauth1: the remote image must be ``active`` and visible
to the caller; its ``disk_format``, ``container_format`` and the properties named by
``[glance_download_properties] extra_properties`` are copied; its data is then downloaded
(following the remote glance-api's redirect to its glance-stream) into the staging area,
inspected and size-capped, and imported as web-download data is.

The caller's token is kept in memory by the worker running the task, never in the
database: a task whose worker died cannot continue and is failed.
"""

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

download_opts = [
    cfg.ListOpt('extra_properties',
                default=['hw_', 'trait:', 'os_distro', 'os_secure_boot', 'os_type'],
                help='Properties of the remote image that glance-download copies: a name '
                     'ending in "_" or ":" is a prefix.'),
    cfg.IntOpt('timeout', default=60, min=1,
               help='Seconds glance-download waits for the remote Images API to answer or '
                    'to send more data.'),
]
CONF.register_opts(download_opts, group='glance_download_properties')

_INTERFACES = ('public', 'internal', 'admin')
_CORE = ('disk_format', 'container_format')


class RemoteRefused(exception.BadRequest):
    message = 'glance-download failed: %(reason)s'


def parse(method):
    """The remote image id, region and interface of a glance-download request."""
    image_id = method.get('glance_image_id')
    region = method.get('glance_region')
    interface = method.get('glance_service_interface', 'public')
    if not isinstance(image_id, str) or not image_id:
        raise exception.BadRequest('glance-download needs "glance_image_id".')
    if not isinstance(region, str) or not region:
        raise exception.BadRequest('glance-download needs "glance_region".')
    if interface not in _INTERFACES:
        raise exception.BadRequest('glance_service_interface must be one of %s.'
                                   % ', '.join(_INTERFACES))
    return image_id, region, interface


def endpoint(catalog, region, interface):
    """The ``image`` endpoint of ``region`` and ``interface`` in a service catalog."""
    for service in catalog or ():
        if not isinstance(service, dict) or service.get('type') != 'image':
            continue
        for entry in service.get('endpoints') or ():
            if not isinstance(entry, dict):
                continue
            if (entry.get('region_id', entry.get('region')) == region
                    and entry.get('interface') == interface and entry.get('url')):
                return entry['url'].rstrip('/')
    raise exception.BadRequest('Your service catalog lists no %s image endpoint in region '
                               '%s.' % (interface, region[:64]))


class Remote:
    """The remote Images API, called with the caller's token."""

    def __init__(self, url, token):
        self.url = url
        self.session = ks_session.Session(timeout=CONF.glance_download_properties.timeout)
        self.headers = {'X-Auth-Token': token} if token else {}

    def _get(self, path, **kwargs):
        try:
            return self.session.get(self.url + path, headers=self.headers,
                                    raise_exc=False, **kwargs)
        except ks_exc.ConnectTimeout:
            raise RemoteRefused(reason='the remote Images API did not answer')
        except ks_exc.ClientException as e:
            raise RemoteRefused(reason='the remote Images API is unreachable (%s)'
                                % type(e).__name__)

    def image(self, image_id):
        resp = self._get('/v2/images/%s' % image_id)
        if resp.status_code == 404:
            raise RemoteRefused(reason='no image %s in the remote region' % image_id[:64])
        if resp.status_code != 200:
            raise RemoteRefused(reason='the remote Images API answered %d'
                                % resp.status_code)
        try:
            found = resp.json()
        except ValueError:
            raise RemoteRefused(reason='the remote Images API answered no JSON')
        if found.get('status') != 'active':
            raise RemoteRefused(reason='the remote image is %s, not active'
                                % found.get('status'))
        return found

    def chunks(self, image_id, limit, limit_error):
        resp = self._get('/v2/images/%s/file' % image_id, stream=True)
        if resp.status_code != 200:
            resp.close()
            raise RemoteRefused(reason='the remote image data answered %d'
                                % resp.status_code)
        read = 0
        try:
            for chunk in resp.iter_content(units.Mi):
                read += len(chunk)
                if read > limit:
                    raise limit_error()
                yield chunk
        except (OSError, ValueError) as e:
            raise RemoteRefused(reason='reading the remote image data failed (%s)'
                                % type(e).__name__)
        finally:
            resp.close()


def properties_to_copy(remote_image):
    """The remote image's core formats and the properties extra_properties names."""
    wanted = CONF.glance_download_properties.extra_properties
    copied = {}
    for name, value in remote_image.items():
        if not isinstance(value, str) or name.startswith('os_glance'):
            continue
        for rule in wanted:
            if (name.startswith(rule) if rule.endswith(('_', ':')) else name == rule):
                copied[name] = value
    return copied


def list_opts():
    return [('glance_download_properties', download_opts)]
