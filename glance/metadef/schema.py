"""The JSON schemas of the metadata definitions catalog, and validation against them.

Served at ``/v2/schemas/metadefs/*``: python-glanceclient and openstackclient build their
models from these and validate what users type, so their shape follows upstream Glance's.
The same schemas check API request bodies and the namespace files glance-manage loads, so a
name too long for its column is a 400 (or a clear load error), never a database error that
differs between SQLite, PostgreSQL and MariaDB.
"""

import copy

import jsonschema

from glance.common import exception

NAME_MAX = 80  # the name columns of the metadef tables
_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', None]


def _timestamp(what):
    return {'type': 'string', 'readOnly': True, 'format': 'date-time',
            'description': 'Date and time of %s.' % what}


def _definitions():
    return {
        'positiveInteger': {'type': 'integer', 'minimum': 0},
        'positiveIntegerDefault0': {'allOf': [{'$ref': '#/definitions/positiveInteger'},
                                              {'default': 0}]},
        'stringArray': {'type': 'array', 'items': {'type': 'string'}, 'uniqueItems': True},
        'property': {'type': 'object', 'additionalProperties': _property_body(False)},
    }


def _property_body(with_name=True):
    """A property definition: a small JSON schema of its own (title, type, enum, ...)."""
    body = {
        'type': 'object',
        'required': ['title', 'type'],
        'properties': {
            'name': {'type': 'string', 'maxLength': NAME_MAX, 'minLength': 1},
            'title': {'type': 'string'},
            'description': {'type': 'string'},
            'operators': {'type': 'array', 'items': {'type': 'string'}},
            'type': {'type': ['string', 'null'], 'enum': _TYPES},
            'required': {'$ref': '#/definitions/stringArray'},
            'minimum': {'type': 'number'},
            'maximum': {'type': 'number'},
            'maxLength': {'$ref': '#/definitions/positiveInteger'},
            'minLength': {'$ref': '#/definitions/positiveIntegerDefault0'},
            'pattern': {'type': 'string', 'format': 'regex'},
            'enum': {'type': 'array'},
            'readonly': {'type': 'boolean'},
            'default': {},
            'items': {'type': 'object', 'properties': {
                'type': {'type': ['string', 'null'], 'enum': _TYPES},
                'enum': {'type': 'array'}}},
            'maxItems': {'$ref': '#/definitions/positiveInteger'},
            'minItems': {'$ref': '#/definitions/positiveIntegerDefault0'},
            'uniqueItems': {'type': 'boolean', 'default': False},
            'additionalItems': {'type': 'boolean'},
        },
    }
    if with_name:
        body['required'] = ['name', 'title', 'type']
    else:
        del body['properties']['name']
    return body


_ASSOCIATION_PROPERTIES = {
    'name': {'type': 'string', 'maxLength': NAME_MAX, 'minLength': 1,
             'description': 'Resource type names should be aligned with Heat resource types '
                            'whenever possible: https://docs.openstack.org/heat/latest/'
                            'template_guide/openstack.html'},
    'prefix': {'type': 'string', 'maxLength': NAME_MAX,
               'description': 'Specifies the prefix to use for the given resource type. Any '
                              'properties in the namespace should be prefixed with this '
                              'prefix when being applied to the specified resource type. '
                              'Must include prefix separator (e.g. a colon :).'},
    'properties_target': {'type': 'string', 'maxLength': NAME_MAX,
                          'description': 'Some resource types allow more than one key / '
                                         'value pair per instance. For example, Cinder '
                                         'allows user and image metadata on volumes. Only '
                                         'the image properties metadata is evaluated by '
                                         'Nova (scheduling or drivers). This property '
                                         'allows a namespace target to remove the '
                                         'ambiguity.'},
}


def _object_properties():
    return {
        'name': {'type': 'string', 'maxLength': NAME_MAX, 'minLength': 1},
        'description': {'type': 'string'},
        'required': {'$ref': '#/definitions/stringArray'},
        'properties': {'$ref': '#/definitions/property'},
    }


def namespace():
    return {
        'name': 'namespace',
        'additionalProperties': False,
        'required': ['namespace'],
        'definitions': _definitions(),
        'properties': {
            'namespace': {'type': 'string', 'maxLength': NAME_MAX, 'minLength': 1,
                          'description': 'The unique namespace text.'},
            'display_name': {'type': 'string', 'maxLength': NAME_MAX,
                             'description': 'The user friendly name for the namespace. Used '
                                            'by UI if available.'},
            'description': {'type': 'string', 'maxLength': 500,
                            'description': 'Provides a user friendly description of the '
                                           'namespace.'},
            'visibility': {'type': 'string', 'enum': ['public', 'private'],
                           'description': 'Scope of namespace accessibility.'},
            'protected': {'type': 'boolean',
                          'description': 'If true, namespace will not be deletable.'},
            'owner': {'type': 'string', 'maxLength': 255,
                      'description': 'Owner of the namespace.'},
            'created_at': _timestamp('namespace creation'),
            'updated_at': _timestamp('the last namespace modification'),
            'schema': {'type': 'string', 'readOnly': True},
            'self': {'type': 'string', 'readOnly': True},
            'resource_type_associations': {
                'type': 'array',
                'items': {'type': 'object', 'required': ['name'],
                          'properties': copy.deepcopy(_ASSOCIATION_PROPERTIES)}},
            'properties': {'$ref': '#/definitions/property'},
            'objects': {'type': 'array', 'items': {
                'type': 'object', 'required': ['name'],
                'properties': _object_properties()}},
            'tags': {'type': 'array', 'items': {
                'type': 'object', 'required': ['name'],
                'properties': {'name': {'type': 'string', 'maxLength': NAME_MAX,
                                        'minLength': 1}}}},
        },
    }


def object_():
    properties = _object_properties()
    properties.update({
        'created_at': _timestamp('object creation'),
        'updated_at': _timestamp('the last object modification'),
        'schema': {'type': 'string', 'readOnly': True},
        'self': {'type': 'string', 'readOnly': True},
    })
    return {'name': 'object', 'additionalProperties': False, 'required': ['name'],
            'definitions': _definitions(), 'properties': properties}


def property_():
    body = _property_body()
    body['name'] = 'property'
    body['additionalProperties'] = False
    body['definitions'] = _definitions()
    return body


def tag():
    return {'name': 'tag', 'additionalProperties': False, 'required': ['name'],
            'properties': {
                'name': {'type': 'string', 'maxLength': NAME_MAX, 'minLength': 1},
                'created_at': _timestamp('tag creation'),
                'updated_at': _timestamp('the last tag modification')}}


def resource_type():
    properties = copy.deepcopy(_ASSOCIATION_PROPERTIES)
    properties.update({
        'created_at': _timestamp('resource type association'),
        'updated_at': _timestamp('the last resource type association modification')})
    return {'name': 'resource_type_association', 'additionalProperties': False,
            'required': ['name'], 'properties': properties}


def _links():
    return [{'rel': 'first', 'href': '{first}'}, {'rel': 'next', 'href': '{next}'},
            {'rel': 'describedby', 'href': '{schema}'}]


def _collection(name, item, items_key=None):
    item = copy.deepcopy(item)
    definitions = item.pop('definitions', None)
    schema = {
        'name': name,
        'properties': {
            items_key or name: {'type': 'array', 'items': item},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': _links(),
    }
    if definitions:
        schema['definitions'] = definitions
    return schema


def namespaces():
    return _collection('namespaces', namespace())


def objects():
    return _collection('objects', object_())


def tags():
    return _collection('tags', tag())


def resource_types():
    return _collection('resource_type_associations', resource_type())


def properties():
    return {
        'name': 'properties',
        'definitions': _definitions(),
        'properties': {
            'properties': {'$ref': '#/definitions/property'},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': _links(),
    }


SCHEMAS = {
    'namespace': namespace, 'namespaces': namespaces,
    'object': object_, 'objects': objects,
    'property': property_, 'properties': properties,
    'tag': tag, 'tags': tags,
    'resource_type': resource_type, 'resource_types': resource_types,
}

_CACHE = {}


def validate(kind, body, what=None):
    """Raise SchemaValidationError (400) unless ``body`` is a valid ``kind`` document."""
    if not isinstance(body, dict):
        raise exception.BadRequest('The %s must be a JSON object.' % (what or kind))
    if kind not in _CACHE:
        schema = SCHEMAS[kind]()
        _CACHE[kind] = jsonschema.Draft4Validator(schema,
                                                  format_checker=jsonschema.FormatChecker())
    errors = sorted(_CACHE[kind].iter_errors(body), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        where = '/'.join(str(p) for p in error.path)
        reason = ('%s: %s' % (where, error.message)) if where else error.message
        raise exception.SchemaValidationError(reason=reason)
