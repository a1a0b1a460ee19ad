"""Who may see an image: the one rule behind every "404, not 403" answer.

An image another project may not see does not exist for it: every read and write path loads
the image through ``get_visible`` and so answers 404, never 403, for someone else's private
image, and leaks nothing about it.
"""

from glance.common import exception
from glance.db import api as db_api


def is_member(context, image):
    """True if the caller's project is a member of ``image``, whatever its member status."""
    return bool(context.project_id and db_api.image_member_find(
        image_id=image['id'], member=context.project_id))


def is_visible(context, image, member=None):
    """True if the caller may see ``image`` (a db image dict).

    ``member``: a function answering ``is_member`` (a caller that needs the answer again
    passes one that remembers it, saving a query).
    """
    if context.is_admin:
        return True
    if image['owner'] is not None and image['owner'] == context.project_id:
        return True
    if image['visibility'] in ('public', 'community'):
        return True
    if image['visibility'] == 'shared' and context.project_id:
        # A member may show a shared image whatever its member status; lists are narrower.
        return (member or is_member)(context, image)
    return False


def get_visible(context, image_id):
    """The image dict, or ImageNotFound if it does not exist or the caller may not see it."""
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        raise
    if not is_visible(context, image):
        raise exception.ImageNotFound(image_id=image_id)
    return image
