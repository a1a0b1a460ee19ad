"""The image policy object: one method per action, and the 404-before-403 rule.

Every action on an existing image goes through ``ImagePolicy(context, image)``: an image the
caller may not see raises ImageNotFound (404) before any rule is checked, so a rule's denial
(403) is only ever given about an image the caller can already see.
"""

from glance.common import exception
from glance.image import visibility
from glance import policy


def image_target(context, image, member=None):
    """The policy target for an image: its owner, visibility and the caller's membership.

    ``member``: as for visibility.is_visible.
    """
    member_id = None
    if (image['visibility'] == 'shared' and context.project_id
            and image['owner'] != context.project_id):
        if (member or visibility.is_member)(context, image):
            member_id = context.project_id
    return {'project_id': image['owner'], 'owner': image['owner'],
            'visibility': image['visibility'], 'member_id': member_id,
            'image_id': image['id']}


class ImagePolicy:
    def __init__(self, context, image):
        self.context = context
        self.image = image
        self._member = None
        if not visibility.is_visible(context, image, self._is_member):
            raise exception.ImageNotFound(image_id=image['id'])
        self._target = None

    def _is_member(self, context, image):
        """visibility.is_member, asked of the database once per policy object."""
        if self._member is None:
            self._member = visibility.is_member(context, image)
        return self._member

    @property
    def target(self):
        if self._target is None:
            self._target = image_target(self.context, self.image, self._is_member)
        return self._target

    def _enforce(self, rule):
        if not policy.check(self.context, rule, self.target):
            # A caller who may not even read the image learns nothing about it.
            if rule != 'get_image' and not policy.check(self.context, 'get_image',
                                                        self.target):
                raise exception.ImageNotFound(image_id=self.image['id'])
            raise exception.Forbidden('You are not authorized to %s this image.'
                                      % _VERBS.get(rule, rule))

    def get(self):
        self._enforce('get_image')

    def modify(self):
        self._enforce('modify_image')

    def delete(self):
        self._enforce('delete_image')

    def deactivate(self):
        self._enforce('deactivate')

    def reactivate(self):
        self._enforce('reactivate')

    def download(self):
        self._enforce('download_image')

    def upload(self):
        self._enforce('upload_image')

    def stage(self):
        self._enforce('stage_image')

    def import_data(self):
        self._enforce('import_image')

    def copy(self):
        self._enforce('copy_image')

    def delete_from_store(self):
        self._enforce('delete_image_location')

    def add_location(self):
        self._enforce('add_image_location')

    def fetch_locations(self):
        self._enforce('fetch_image_location')

    def set_location(self):
        self._enforce('set_image_location')

    def delete_location(self):
        self._enforce('delete_image_location')

    def tasks(self):
        self._enforce('get_image_tasks')

    def direct_link(self):
        self._enforce('get_image_direct_link')

    def publicize(self):
        self._enforce('publicize_image')

    def communitize(self):
        self._enforce('communitize_image')


_VERBS = {
    'get_image': 'show', 'modify_image': 'modify', 'upload_image': 'upload data of',
    'delete_image': 'delete',
    'deactivate': 'deactivate', 'reactivate': 'reactivate', 'download_image': 'download',
    'publicize_image': 'publicize', 'communitize_image': 'communitize',
    'get_image_direct_link': 'get a direct link to',
    'stage_image': 'stage data of', 'import_image': 'import data into',
    'copy_image': 'copy the data of', 'delete_image_location': "delete a store's copy of",
    'get_image_tasks': 'list the tasks of', 'add_image_location': 'add a location to',
    'fetch_image_location': 'list the locations of',
    'set_image_location': 'set the locations of',
}


def check_create(context, owner, visibility_value):
    """Rules for a new image: add_image, and publicize/communitize for its visibility."""
    target = {'project_id': owner, 'owner': owner, 'visibility': visibility_value,
              'member_id': None}
    policy.enforce(context, 'add_image', target)
    if visibility_value == 'public' and not policy.check(context, 'publicize_image', target):
        raise exception.Forbidden("You are not authorized to create public images.")
    if (visibility_value == 'community'
            and not policy.check(context, 'communitize_image', target)):
        raise exception.Forbidden("You are not authorized to create community images.")


def check_list(context):
    policy.enforce(context, 'get_images', {'project_id': context.project_id})
