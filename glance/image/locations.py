"""Deleting the data of an image's locations, in the order that leaves nothing unfound.

The image row is already marked deleted (glance.image.service.delete); each location's data
is deleted next and the location marked ``deleted``. A location whose store refuses stays
``pending_delete``: the scrubber (glance.image.recovery) tries again.
"""

from oslo_log import log as logging

from glance.db import api as db_api
from glance.store import backend

LOG = logging.getLogger(__name__)


def delete_data(image):
    """Delete the data of every location of a (deleted) image, then mark them deleted."""
    for location in image['locations']:
        try:
            backend.delete(location)
        except Exception as e:
            LOG.error('Could not delete the data of image %s now (%s); it will be retried',
                      image['id'], type(e).__name__)
            db_api.image_location_set_status(location['id'], 'pending_delete')
            continue
        db_api.image_location_set_status(location['id'], 'deleted')
