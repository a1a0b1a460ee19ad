"""Keystone unified limits for images (oslo.limit), as upstream Glance names them.

With ``[DEFAULT] use_keystone_limits = True`` the per-project limits come from Keystone
(registered limits for the image service's endpoint, overridden per project) instead of
``user_storage_quota`` and ``image_count_quota``:

``image_count_total``
    images (in any status but deleted) a project owns: checked when one is created.
``image_count_uploading``
    images whose data is on its way in (uploading, staged or importing): checked when an
    upload, a stage or an import starts (an image counts once, staged and then imported).
``image_size_total``
    MiB of image data a project stores (images being imported included): checked when an
    upload or import starts, and an upload is cut off (413) at the bytes that remain.
``image_stage_total``
    MiB of image data in transit (uploads in progress, staged data): checked when an
    upload or a stage starts, with its size when the client sent it.

A resource with no registered limit allows nothing (oslo.limit's rule), so register all
four before turning this on. ``[oslo_limit]`` says how to reach Keystone (a user with the
``reader`` role on the system, e.g. ``system_scope = all``) and which endpoint the limits
belong to (``endpoint_id``, or ``endpoint_service_type`` and ``endpoint_region_name``).
``GET /v2/info/usage`` shows a project its limits and usage.
"""

from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc
from oslo_config import cfg
from oslo_limit import exception as limit_exc
from oslo_limit import limit
from oslo_limit import opts as limit_opts
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception
from glance.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

IMAGE_SIZE_TOTAL = 'image_size_total'
IMAGE_STAGE_TOTAL = 'image_stage_total'
IMAGE_COUNT_TOTAL = 'image_count_total'
IMAGE_COUNT_UPLOADING = 'image_count_uploading'
RESOURCES = (IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL, IMAGE_COUNT_TOTAL, IMAGE_COUNT_UPLOADING)

# Statuses of an image whose data is on its way in ('uploading'/'importing': staging and
# interoperable import).
IN_TRANSIT = ('saving', 'uploading', 'importing')

keystone_limits_opts = [
    cfg.BoolOpt('use_keystone_limits', default=False,
                help='Take per-project image limits (image_size_total, image_stage_total, '
                     'image_count_total, image_count_uploading) from Keystone unified '
                     'limits, configured in [oslo_limit]. When True, user_storage_quota '
                     'and image_count_quota are ignored; the per-image limits '
                     '(image_property_quota, image_tag_quota, image_member_quota, '
                     'image_size_cap) still apply.'),
]
CONF.register_opts(keystone_limits_opts)
limit_opts.register_opts(CONF)


def enabled():
    return CONF.use_keystone_limits


def _mib(size):
    return (size + units.Mi - 1) // units.Mi  # a started MiB counts


def _usage(project_id, resource_names):
    """oslo.limit's usage callback: what the project uses now, in the limits' units."""
    usage = {}
    for name in resource_names:
        if name == IMAGE_SIZE_TOTAL:
            usage[name] = _mib(db_api.image_storage_used(project_id))
        elif name == IMAGE_COUNT_TOTAL:
            usage[name] = db_api.image_count(project_id)
        elif name in (IMAGE_COUNT_UPLOADING, IMAGE_STAGE_TOTAL):
            count, size = db_api.image_usage(project_id, IN_TRANSIT)
            usage[name] = count if name == IMAGE_COUNT_UPLOADING else _mib(size)
    return usage


def _call(project_id, action):
    """Run ``action(enforcer)``: over a limit is 413, Keystone out of reach is 503."""
    try:
        return action(limit.Enforcer(_usage))
    except limit_exc.ProjectOverLimit as e:
        raise exception.LimitExceeded(reason='; '.join(
            '%s: the limit is %d, project %s uses %d and asked for %d more'
            % (i.resource_name, i.limit, project_id, i.current_usage, i.delta)
            for i in e.over_limit_info_list))
    except (limit_exc.SessionInitError, ks_exc.ClientException,
            sdk_exc.SDKException, ValueError) as e:
        LOG.error('Keystone unified limits could not be read: %s', e)
        raise exception.ServiceUnavailable(reason='the image limits could not be read '
                                                  'from Keystone')


def enforce_image_count_total(context, project_id):
    """Before an image is created."""
    _call(project_id, lambda enforcer: enforcer.enforce(project_id,
                                                        {IMAGE_COUNT_TOTAL: 1}))


def enforce_upload(context, project_id, size=None, in_transit=False):
    """Before an upload's first byte; the most bytes it may then write (None: no bound).

    ``size`` is the upload's length when the client sent one. ``in_transit``: the image
    is already counted among the project's images in transit (the download of a
    web-download or glance-download import, whose image is ``importing``).
    """
    deltas = {IMAGE_COUNT_UPLOADING: 0 if in_transit else 1,
              IMAGE_SIZE_TOTAL: _mib(size or 0), IMAGE_STAGE_TOTAL: _mib(size or 0)}

    def check(enforcer):
        enforcer.enforce(project_id, deltas)
        return dict(enforcer.get_project_limits(project_id, [IMAGE_SIZE_TOTAL,
                                                             IMAGE_STAGE_TOTAL]))

    limits = _call(project_id, check)
    remaining = []
    if limits.get(IMAGE_SIZE_TOTAL, -1) >= 0:
        remaining.append(limits[IMAGE_SIZE_TOTAL] * units.Mi
                         - db_api.image_storage_used(project_id))
    if limits.get(IMAGE_STAGE_TOTAL, -1) >= 0:
        remaining.append(limits[IMAGE_STAGE_TOTAL] * units.Mi
                         - db_api.image_usage(project_id, IN_TRANSIT)[1])
    return max(min(remaining), 0) if remaining else None


def enforce_import(context, project_id, image, method):
    """Before an import of ``image`` by ``method`` starts.

    ``image_count_uploading``: one more image in transit, unless the image already is one
    (staged data makes it ``uploading``). ``image_size_total``: the bytes the import will
    store, which for glance-direct are the staged data's (stored images and images being
    imported count as used, so neither a second import of staged data nor one running
    beside it takes the project over); a web-download or glance-download is cut off at
    the bytes that remain, as an upload without a length; a copy stores no new image.
    """
    deltas = {IMAGE_COUNT_UPLOADING: 0 if image['status'] in IN_TRANSIT else 1,
              IMAGE_SIZE_TOTAL: 0 if method == 'copy-image' else _mib(image['size'] or 0)}
    _call(project_id, lambda enforcer: enforcer.enforce(project_id, deltas))


def usage(context):
    """{resource: {'limit': n, 'usage': n}} for the caller's project (GET /v2/info/usage)."""
    if not enabled():
        return {}
    project_id = context.project_id
    found = _call(project_id, lambda enforcer: enforcer.calculate_usage(project_id,
                                                                        RESOURCES))
    return {name: {'limit': value.limit, 'usage': value.usage}
            for name, value in found.items()}


def list_opts():
    return [(None, keystone_limits_opts)]
