"""An image as the API shows it: core fields, custom properties at the top level, links."""

from glance.api.v2 import image_schema
from glance.image import direct_link


def _time(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value is not None else None


def flat(image):
    """The writable view of an image: id, core writable fields and custom properties."""
    result = {'id': image['id']}
    for name in image_schema.CORE_WRITABLE:
        result[name] = list(image['tags']) if name == 'tags' else image[name]
    result.update(image['properties'])
    return result


def show(image, context=None):
    """The image as the API shows it.

    With the caller's context, ``direct_url`` and ``locations`` are added where configuration
    and policy allow (glance.image.direct_link).
    """
    view = dict(image['properties'])
    view.update({
        'id': image['id'],
        'name': image['name'],
        'status': image['status'],
        'visibility': image['visibility'],
        'protected': bool(image['protected']),
        'os_hidden': bool(image['os_hidden']),
        'checksum': image['checksum'],
        'os_hash_algo': image['os_hash_algo'],
        'os_hash_value': image['os_hash_value'],
        'owner': image['owner'],
        'size': image['size'],
        'virtual_size': image['virtual_size'],
        'min_ram': image['min_ram'],
        'min_disk': image['min_disk'],
        'container_format': image['container_format'],
        'disk_format': image['disk_format'],
        'created_at': _time(image['created_at']),
        'updated_at': _time(image['updated_at'] or image['created_at']),
        'tags': list(image['tags']),
        'self': '/v2/images/%s' % image['id'],
        'file': '/v2/images/%s/file' % image['id'],
        'schema': '/v2/schemas/image',
    })
    stores = [loc['metadata'].get('store') for loc in image['locations']
              if loc['metadata'].get('store')]
    if stores:
        view['stores'] = ','.join(dict.fromkeys(stores))
    if context is not None:
        view.update(direct_link.visible_locations(context, image))
    return view
