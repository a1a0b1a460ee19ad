"""The member JSON schemas (``/v2/schemas/member`` and ``/v2/schemas/members``)."""

from glance.api.v2 import image_schema


def get_schema():
    return {
        'name': 'member',
        'properties': {
            'created_at': {'type': 'string',
                           'description': 'Date and time of image member creation'},
            'image_id': {'type': 'string', 'pattern': image_schema.UUID_PATTERN,
                         'description': 'An identifier for the image'},
            'member_id': {'type': 'string',
                          'description': 'An identifier for the image member (tenantId)'},
            'schema': {'type': 'string', 'readOnly': True},
            'status': {'type': 'string', 'enum': ['pending', 'accepted', 'rejected'],
                       'description': 'The status of this image member'},
            'updated_at': {'type': 'string',
                           'description': 'Date and time of last modification of image '
                                          'member'},
        },
    }


def get_collection_schema():
    return {
        'name': 'members',
        'properties': {
            'members': {'type': 'array', 'items': get_schema()},
            'schema': {'type': 'string'},
        },
        'links': [{'href': '{schema}', 'rel': 'describedby'}],
    }
