"""The download preconditions, in one place: who may read an image's data, and when.

glance-api (before it redirects or proxies a download), glance-stream (before it serves
one) and direct links (before they issue a link) all call ``check_downloadable``.
"""

from glance.common import exception
from glance.db import api as db_api
from glance.image import policy as image_policy
from glance.image import visibility


def check_downloadable(context, image_id, ticket_claims=None, image=None, action='download'):
    """The image if the caller may download its data now; the domain error otherwise.

    With a ticket (glance-stream), glance-api already applied the download policy when it
    signed it: only visibility and status are checked again, since they may have changed
    since. An image that may not be seen is 404; a deactivated one is 403 to non-admins.
    ``action`` is the ImagePolicy rule applied without a ticket (``direct_link`` for
    direct links).
    """
    if image is None:
        image = db_api.image_get(image_id)
    if ticket_claims is not None:
        if not visibility.is_visible(context, image):
            # The ticket names a project that may not see this image (membership revoked
            # since, or a ticket minted for another project): the ticket is refused.
            raise exception.Forbidden('The ticket does not allow access to this image.')
    else:
        getattr(image_policy.ImagePolicy(context, image), action)()
    if image['status'] == 'deactivated' and not context.is_admin:
        raise exception.Forbidden('The requested image has been deactivated. Image data '
                                  'download is forbidden.')
    return image


def has_data(image):
    """True if the image has bytes to serve (otherwise a download answers 204)."""
    return image['status'] in ('active', 'deactivated') and bool(image['locations'])
