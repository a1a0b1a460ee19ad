"""Sharing images: members of a shared image, and their accept/reject status.

The owner adds and removes members; a member sees only its own membership and alone sets its
status. Only images with visibility ``shared`` have members, as upstream.
"""

from oslo_log import log as logging

from glance.common import exception
from glance.common import notifier
from glance.db import api as db_api
from glance.image import quota
from glance.image import service
from glance import policy

LOG = logging.getLogger(__name__)

STATUSES = ('pending', 'accepted', 'rejected')


def _target(image, member_id):
    return {'project_id': image['owner'], 'owner': image['owner'], 'member_id': member_id,
            'visibility': image['visibility'], 'image_id': image['id']}


def _shared_image(context, image_id):
    image, image_policy = service.get_for(context, image_id)  # 404 if invisible
    if image['visibility'] != 'shared':
        raise exception.Forbidden('Only shared images have members.')
    return image


def _enforce(context, rule, image, member_id, verb):
    if not policy.check(context, rule, _target(image, member_id)):
        raise exception.Forbidden('You are not authorized to %s.' % verb)


def add(context, image_id, member_id):
    image = _shared_image(context, image_id)
    _enforce(context, 'add_member', image, member_id, 'share this image')
    if not isinstance(member_id, str) or not member_id or len(member_id) > 255:
        raise exception.BadRequest('"member" must be a project id (a string of 1 to 255 '
                                   'characters).')
    quota.check_members(len(db_api.image_member_find(image_id=image_id)) + 1)
    member = db_api.image_member_create(image_id, member_id)
    LOG.info('Image %s shared with project %s', image_id, member_id)
    notifier.member_event(context, 'image.member.create', member)
    return member


def list_members(context, image_id):
    image = _shared_image(context, image_id)
    caller = context.project_id
    if context.is_admin or caller == image['owner']:
        _enforce(context, 'get_members', image, None, 'list the members of this image')
        return db_api.image_member_find(image_id=image_id)
    _enforce(context, 'get_members', image, caller, 'list the members of this image')
    return db_api.image_member_find(image_id=image_id, member=caller)


def get(context, image_id, member_id):
    image = _shared_image(context, image_id)
    if not (context.is_admin or context.project_id in (image['owner'], member_id)):
        raise exception.MemberNotFound(image_id=image_id, member_id=member_id)
    _enforce(context, 'get_member', image, member_id, 'show this member')
    found = db_api.image_member_find(image_id=image_id, member=member_id)
    if not found:
        raise exception.MemberNotFound(image_id=image_id, member_id=member_id)
    return found[0]


def update_status(context, image_id, member_id, status):
    image = _shared_image(context, image_id)
    if status not in STATUSES:
        raise exception.BadRequest('Status must be one of %s.' % ', '.join(STATUSES))
    if not db_api.image_member_find(image_id=image_id, member=member_id):
        raise exception.MemberNotFound(image_id=image_id, member_id=member_id)
    _enforce(context, 'modify_member', image, member_id,
             'change the status of this membership (only the member may)')
    member = db_api.image_member_update(image_id, member_id, status)
    notifier.member_event(context, 'image.member.update', member)
    return member


def delete(context, image_id, member_id):
    image = _shared_image(context, image_id)
    _enforce(context, 'delete_member', image, member_id, 'remove members of this image')
    member = db_api.image_member_find(image_id=image_id, member=member_id)
    db_api.image_member_delete(image_id, member_id)
    LOG.info('Image %s no longer shared with project %s', image_id, member_id)
    if member:
        notifier.member_deleted(context, member[0])
