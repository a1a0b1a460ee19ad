"""Per-image and per-project limits, each answered with 413 and a message saying which."""

from oslo_config import cfg
from oslo_utils import units

from glance.common import exception
from glance.db import api as db_api
from glance.image import keystone_limits
from glance import policy

CONF = cfg.CONF

quota_opts = [
    cfg.IntOpt('image_property_quota', default=128, min=-1,
               help='Most custom properties one image may have; -1 for no limit.'),
    cfg.IntOpt('image_tag_quota', default=128, min=-1,
               help='Most tags one image may have; -1 for no limit.'),
    cfg.IntOpt('image_member_quota', default=128, min=-1,
               help='Most members (projects it is shared with) one image may have; -1 for '
                    'no limit.'),
    cfg.IntOpt('image_count_quota', default=-1, min=-1,
               help='Most images (in any status but deleted) one project may own; -1 for no '
                    'limit. Ignored when use_keystone_limits is True (image_count_total '
                    'applies).'),
]
CONF.register_opts(quota_opts)


def _over(limit, count):
    return limit >= 0 and count > limit


def check_properties(properties):
    if _over(CONF.image_property_quota, len(properties)):
        raise exception.LimitExceeded(
            reason='Maximum number of image properties exceeded: %d properties, the limit is '
                   '%d.' % (len(properties), CONF.image_property_quota))


def check_tags(tags):
    if _over(CONF.image_tag_quota, len(set(tags))):
        raise exception.LimitExceeded(
            reason='Maximum number of image tags exceeded: %d tags, the limit is %d.'
                   % (len(set(tags)), CONF.image_tag_quota))


def check_members(count):
    if _over(CONF.image_member_quota, count):
        raise exception.LimitExceeded(
            reason='Maximum number of image members exceeded: the limit is %d.'
                   % CONF.image_member_quota)


def check_image_count(owner):
    """Before creating an image: would the project own more than its quota?"""
    if keystone_limits.enabled():
        keystone_limits.enforce_image_count_total(None, owner)
        return
    if CONF.image_count_quota < 0:
        return
    if db_api.image_count(owner) + 1 > CONF.image_count_quota:
        raise exception.LimitExceeded(
            reason='Project %s already owns the maximum of %d images.'
                   % (owner, CONF.image_count_quota))


def usage(context):
    """The ``GET /v2/info/usage`` body for the caller's project, as upstream.

    Sizes are in MiB; a limit of -1 is no limit.
    """
    policy.enforce(context, 'get_usage', {'project_id': context.project_id})
    if keystone_limits.enabled():
        return {'usage': keystone_limits.usage(context)}
    CONF.import_opt('user_storage_quota', 'glance.image.data')
    owner = context.project_id
    stored, count = db_api.image_storage_used(owner), db_api.image_count(owner)
    uploading, staged = db_api.image_usage(owner, keystone_limits.IN_TRANSIT)
    size_limit = CONF.user_storage_quota // units.Mi if CONF.user_storage_quota else -1
    return {'usage': {
        'image_size_total': {'limit': size_limit, 'usage': stored // units.Mi},
        'image_count_total': {'limit': CONF.image_count_quota, 'usage': count},
        'image_stage_total': {'limit': size_limit, 'usage': staged // units.Mi},
        'image_count_uploading': {'limit': -1, 'usage': uploading},
    }}


def list_opts():
    return [(None, quota_opts)]
