"""Deleting the data of an image's locations, in the order that leaves nothing unfound.

The image row is already marked deleted (glance.image.service.delete); each location's data
is deleted next and the location marked ``deleted``. A location whose store refuses stays
``pending_delete``: the scrubber (glance.image.recovery) tries again.

``delete_store_copy`` (``DELETE /v2/stores/{store_id}/{image_id}``) removes one store's copy
of an active image that has others, in the same order: the location is marked
``pending_delete`` first, then the data goes.
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


def delete_store_copy(image, store_id):
    """Delete the image's locations in one store: marked pending_delete, then the data."""
    found = [loc for loc in image['locations'] if loc['metadata'].get('store') == store_id]
    for location in found:
        db_api.image_location_set_status(location['id'], 'pending_delete')
    for location in found:
        try:
            backend.delete(location)
        except Exception as e:
            LOG.error('Could not delete the data of image %s in store %s now (%s); it will '
                      'be retried', image['id'], store_id, type(e).__name__)
            continue
        db_api.image_location_set_status(location['id'], 'deleted')


def delete_location(image, location):
    """Delete one location of an active image that keeps others (the /locations patch).

    Marked pending_delete first, then its data goes (not an http store's: Glance only
    points at those), then it is marked deleted; a store that fails leaves it to the
    scrubber.
    """
    db_api.image_location_set_status(location['id'], 'pending_delete')
    try:
        backend.delete(location)
    except Exception as e:
        LOG.error('Could not delete the data of a location of image %s now (%s); it will '
                  'be retried', image['id'], type(e).__name__)
        return
    db_api.image_location_set_status(location['id'], 'deleted')
