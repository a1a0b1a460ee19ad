"""The image lifecycle: one function per action, calling policy, quota and the db in order.

Controllers parse HTTP and call these; these raise glance.common.exception errors. Nothing
here wraps an image in proxies: an image is the dict the db api returns.
"""

import uuid

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import notifier
from glance.db import api as db_api
from glance.image import cache_coherence
from glance.image import locations
from glance.image import policy as image_policy
from glance.image import properties as property_rules
from glance.image import property_protections
from glance.image import quota

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

lifecycle_opts = [
    cfg.BoolOpt('delayed_delete', default=False,
                help='When True, deleting an image marks its data pending_delete and the '
                     'scrubber deletes it later; when False the data is deleted at once.'),
]
CONF.register_opts(lifecycle_opts)


def _split(values):
    """Separate core columns from custom properties in a flat image representation."""
    core, properties = {}, {}
    for key, value in values.items():
        if key in property_rules.CORE_WRITABLE or key == 'id':
            core[key] = value
        else:
            properties[key] = value
    return core, properties


def create(context, values):
    """Create an image record (status queued) from a validated request body."""
    for name in values:
        if name != 'id':
            property_rules.check_property_name(name)
    if 'locations' in values:
        raise exception.Forbidden('Locations cannot be set when creating an image.')
    core, properties = _split(values)
    owner = core.get('owner') or context.project_id
    if owner != context.project_id and not context.is_admin:
        raise exception.Forbidden("You are not permitted to create images owned by '%s'."
                                  % owner)
    visibility = core.get('visibility', 'shared')
    image_policy.check_create(context, owner, visibility)
    property_protections.check_create(context, properties, owner)
    tags = core.pop('tags', None) or []
    quota.check_properties(properties)
    quota.check_tags(tags)
    quota.check_image_count(owner)
    record = {
        'id': core.get('id') or str(uuid.uuid4()),
        'name': core.get('name'),
        'status': 'queued',
        'visibility': visibility,
        'owner': owner,
        'protected': bool(core.get('protected', False)),
        'os_hidden': bool(core.get('os_hidden', False)),
        'min_disk': core.get('min_disk') or 0,
        'min_ram': core.get('min_ram') or 0,
        'container_format': core.get('container_format'),
        'disk_format': core.get('disk_format'),
        'properties': properties,
        'tags': tags,
    }
    image = db_api.image_create(record)
    LOG.info('Image %s created by project %s', image['id'], context.project_id)
    notifier.image_event(context, 'image.create', image)
    return property_protections.shown(context, image)


def get(context, image_id):
    """The image as the caller may see it (without properties it may not read)."""
    image = db_api.image_get(image_id)
    image_policy.ImagePolicy(context, image).get()
    return property_protections.shown(context, image)


def get_for(context, image_id):
    """The image and its policy object (404 if the caller may not see it)."""
    image = db_api.image_get(image_id)
    return image, image_policy.ImagePolicy(context, image)


def list_images(context, filters=None, marker=None, limit=None, sort_keys=None,
                sort_dirs=None, member_status='accepted'):
    image_policy.check_list(context)
    filters = dict(filters or {})
    if marker is not None:
        # An invisible marker is as good as a missing one: never confirm another project's id.
        # Its row is read once, here, and the list query takes its sort values from it.
        try:
            marker_row = db_api.image_row(marker)
            image_policy.ImagePolicy(context, marker_row).get()
        except (exception.ImageNotFound, exception.Forbidden):
            raise exception.BadRequest('Marker %s could not be found.' % marker)
        marker = marker_row
    images = db_api.image_get_all(
        project_id=context.project_id, is_admin=context.is_admin, filters=filters,
        marker=marker, limit=limit, sort_keys=sort_keys, sort_dirs=sort_dirs,
        member_status=member_status)
    return [property_protections.shown(context, image) for image in images]


def update(context, image_id, apply_changes):
    """Apply a patch: ``apply_changes(image)`` returns the new flat representation.

    The new representation is validated as a whole and saved in one transaction, so a patch
    either applies entirely or not at all. The patch sees only the properties the caller
    may read; property protections decide which changes it may make.
    """
    image, policy = get_for(context, image_id)
    policy.modify()
    readable, hidden = property_protections.split_readable(context, image)
    new = apply_changes(dict(image, properties=readable))
    core, properties = _split(new)
    properties = property_protections.check_changes(context, readable, hidden, properties,
                                                    image['owner'])
    if core.get('visibility') != image['visibility']:
        if core.get('visibility') == 'public':
            policy.publicize()
        elif core.get('visibility') == 'community':
            policy.communitize()
    if core.get('owner') != image['owner'] and not context.is_admin:
        raise exception.Forbidden('Only an admin may change the owner of an image.')
    for attr in ('container_format', 'disk_format'):
        if core.get(attr) != image[attr] and image['status'] != 'queued':
            raise exception.Forbidden('Attribute %s can be only replaced for a queued image.'
                                      % attr)
    tags = core.pop('tags', None) or []
    quota.check_properties(properties)
    quota.check_tags(tags)
    core.pop('id', None)
    values = {k: v for k, v in core.items() if v != image.get(k)}
    updated = db_api.image_update(image_id, values, properties=properties, tags=tags,
                                  from_state=image['status'])
    notifier.image_event(context, 'image.update', updated)
    return property_protections.shown(context, updated)


def delete(context, image_id):
    """Mark the image deleted, then delete its data (or leave it to the scrubber)."""
    image, policy = get_for(context, image_id)
    policy.delete()
    if image['protected']:
        raise exception.ProtectedImageDelete(image_id=image_id)
    status = 'pending_delete' if CONF.delayed_delete and image['locations'] else 'deleted'
    deleted = db_api.image_destroy(image_id, status=status)
    LOG.info('Image %s deleted (%s) by project %s', image_id, status, context.project_id)
    notifier.image_deleted(context, deleted)
    if status == 'deleted' and image['locations']:
        locations.delete_data(image)
    if image['locations']:
        cache_coherence.invalidate(image_id)
    return deleted


def delete_from_store(context, image_id, store_id):
    """Delete an active image's copy in one store; the image keeps its other copies."""
    image, policy = get_for(context, image_id)
    policy.delete_from_store()
    if store_id not in CONF.enabled_backends:
        raise exception.NotFound('There is no store %s.' % store_id)
    if image['status'] != 'active':
        raise exception.Conflict('Image %s is %s: data is removed from a store only of an '
                                 'active image.' % (image_id, image['status']))
    if image['properties'].get('os_glance_import_task'):
        raise exception.Conflict('Image %s is being imported.' % image_id)
    stores = [loc['metadata'].get('store') for loc in image['locations']]
    if store_id not in stores:
        raise exception.NotFound('Image %s has no data in store %s.' % (image_id, store_id))
    if set(stores) == {store_id}:
        raise exception.Conflict('Store %s holds the only copy of image %s: delete the image '
                                 'instead.' % (store_id, image_id))
    locations.delete_store_copy(image, store_id)
    cache_coherence.invalidate(image_id)
    LOG.info('Image %s: its copy in store %s was deleted by project %s', image_id, store_id,
             context.project_id)


def deactivate(context, image_id):
    image, policy = get_for(context, image_id)
    policy.deactivate()
    if image['status'] == 'deactivated':
        return image
    if image['status'] != 'active':
        raise exception.Conflict('Not allowed to deactivate image in status %s'
                                 % image['status'])
    image = db_api.image_update(image_id, {'status': 'deactivated'}, from_state='active')
    cache_coherence.invalidate(image_id)
    notifier.image_event(context, 'image.update', image)
    return image


def reactivate(context, image_id):
    image, policy = get_for(context, image_id)
    policy.reactivate()
    if image['status'] == 'active':
        return image
    if image['status'] != 'deactivated':
        raise exception.Conflict('Not allowed to reactivate image in status %s'
                                 % image['status'])
    image = db_api.image_update(image_id, {'status': 'active'}, from_state='deactivated')
    notifier.image_event(context, 'image.update', image)
    return image


def add_tag(context, image_id, tag):
    image, policy = get_for(context, image_id)
    policy.modify()
    if len(tag) > 255:
        raise exception.BadRequest('Tag is longer than 255 characters.')
    if tag in image['tags']:
        return
    tags = image['tags'] + [tag]
    quota.check_tags(tags)
    notifier.image_event(context, 'image.update', db_api.image_update(image_id, {}, tags=tags))


def delete_tag(context, image_id, tag):
    image, policy = get_for(context, image_id)
    policy.modify()
    if tag not in image['tags']:
        raise exception.NotFound('Tag %s not found on image %s.' % (tag, image_id))
    updated = db_api.image_update(image_id, {}, tags=[t for t in image['tags'] if t != tag])
    notifier.image_event(context, 'image.update', updated)


def list_opts():
    return [(None, lifecycle_opts)]
