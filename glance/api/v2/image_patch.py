"""JSON-patch bodies of ``PATCH /v2/images/{id}``: parse them, then apply them to an image.

Two media types, as upstream: ``application/openstack-images-v2.1-json-patch`` (RFC 6902
operations ``{"op": "replace", "path": "/name", "value": ...}``) and the older
``application/openstack-images-v2.0-json-patch`` (``{"replace": "/name", "value": ...}``).
Only add, remove and replace exist; paths are one level deep (``/tags`` replaces the whole
list), except for locations, as upstream: ``/locations`` (the whole list), ``/locations/-``
(add at the end) and ``/locations/N`` (remove). ``apply`` works on a copy: a patch is
applied entirely or not at all. Location changes are not applied here: ``split`` hands them
to glance.image.location_changes, which checks them all before it changes anything.
"""

import copy

from glance.api.v2 import image_schema
from glance.common import exception

MEDIA_TYPES = ('application/openstack-images-v2.1-json-patch',
               'application/openstack-images-v2.0-json-patch')
OPS = ('add', 'remove', 'replace')


def _location_index(path, index):
    if index == '-':
        return index
    if index.isdigit() and (index == '0' or not index.startswith('0')):
        return int(index)
    raise exception.InvalidJsonPatchPath(
        path=path, explanation='a location is "-" or its position, a number')


def _decode_path(path, op):
    """(name, index): index is None but for /locations/- and /locations/N."""
    if not isinstance(path, str) or not path.startswith('/'):
        raise exception.InvalidJsonPatchPath(path=path, explanation="it must start with '/'")
    parts = path[1:].split('/')
    if parts[0] == 'locations':
        if len(parts) == 1:
            if op != 'replace':
                raise exception.InvalidJsonPatchPath(
                    path=path, explanation='add to /locations/- and remove /locations/N; '
                                           'only replace takes the whole list')
            return 'locations', None
        if len(parts) == 2 and op != 'replace':
            return 'locations', _location_index(path, parts[1])
        raise exception.InvalidJsonPatchPath(
            path=path, explanation='locations are replaced as a whole list')
    if len(parts) != 1 or not parts[0]:
        raise exception.InvalidJsonPatchPath(
            path=path, explanation='only top-level properties can be changed')
    # RFC 6901 escapes
    return parts[0].replace('~1', '/').replace('~0', '~'), None


def parse(body, media_type):
    """A list of {'op', 'name', 'value'} from a decoded JSON body, or BadRequest."""
    if not isinstance(body, list):
        raise exception.BadRequest('A JSON-patch body must be a list of operations.')
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise exception.BadRequest('Each patch operation must be a JSON object.')
        if media_type == MEDIA_TYPES[0]:
            op = raw.get('op')
            if op not in OPS:
                raise exception.BadRequest('Operation "%s" is not supported; use one of %s.'
                                           % (op, ', '.join(OPS)))
            if 'path' not in raw:
                raise exception.BadRequest('Unable to find "path" in JSON Schema change')
            path = raw['path']
        else:
            ops = [op for op in OPS if op in raw]
            if len(ops) != 1:
                raise exception.BadRequest('Each operation must name exactly one of %s.'
                                           % ', '.join(OPS))
            op = ops[0]
            path = raw[op]
        name, index = _decode_path(path, op)
        change = {'op': op, 'name': name}
        if name == 'locations':
            change['index'] = index
        if op in ('add', 'replace'):
            if 'value' not in raw:
                raise exception.BadRequest('Operation "%s" needs a "value".' % op)
            change['value'] = raw['value']
        changes.append(change)
    return changes


def apply(flat_image, changes):
    """Apply changes to a flat image (core fields and custom properties); returns the copy.

    Read-only and reserved names answer 403; replacing or removing a custom property that
    does not exist answers 409, as upstream.
    """
    image = copy.deepcopy(flat_image)
    for change in changes:
        name, op = change['name'], change['op']
        if name == 'locations':
            continue  # see split()
        image_schema.check_property_name(name)
        core = name in image_schema.CORE_WRITABLE
        if op == 'remove':
            if core:
                raise exception.Forbidden('Property %s is a core property and cannot be '
                                          'removed.' % name)
            if name not in image:
                raise exception.Conflict('Property %s does not exist.' % name)
            del image[name]
        elif op == 'replace' and not core and name not in image:
            raise exception.Conflict('Property %s does not exist.' % name)
        else:
            image[name] = change['value']
    return image


def split(changes):
    """(location changes, the others): the two are applied by different services."""
    return ([c for c in changes if c['name'] == 'locations'],
            [c for c in changes if c['name'] != 'locations'])
