"""The image JSON schema (``/v2/schemas/image``) and the property rules it implies.

python-glanceclient and openstackclient download this schema and validate what users type
against it, so its shape follows upstream Glance's: core properties with types and enums,
``additionalProperties`` of type string for custom properties, and the links clients use.
"""

import copy

import jsonschema
from oslo_config import cfg

from glance.common import exception
from glance.image import properties

CONF = cfg.CONF

image_format_opts = [
    cfg.ListOpt('container_formats',
                default=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'],
                help='Container formats an image may declare.'),
    cfg.ListOpt('disk_formats',
                default=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi',
                         'iso', 'ploop'],
                help='Disk formats an image may declare.'),
]
CONF.register_opts(image_format_opts, group='image_format')

UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')

STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing',
            'pending_delete', 'deactivated']
VISIBILITIES = ['community', 'public', 'private', 'shared']

READ_ONLY = properties.READ_ONLY
RESERVED = properties.RESERVED
RESERVED_PREFIX = properties.RESERVED_PREFIX
CORE_WRITABLE = properties.CORE_WRITABLE
check_property_name = properties.check_property_name
MAX_INT = properties.MAX_INT
MAX_BIGINT = properties.MAX_BIGINT
MAX_VALUE_BYTES = properties.MAX_VALUE_BYTES

# Well-known optional properties, typed so that clients validate them (as upstream's
# schema-image.json does); they are stored as custom properties.
_KNOWN_PROPERTIES = {
    'kernel_id': {'type': ['null', 'string'], 'pattern': UUID_PATTERN, 'is_base': False,
                  'description': 'ID of image stored in Glance that should be used as the '
                                 'kernel when booting an AMI-style image.'},
    'ramdisk_id': {'type': ['null', 'string'], 'pattern': UUID_PATTERN, 'is_base': False,
                   'description': 'ID of image stored in Glance that should be used as the '
                                  'ramdisk when booting an AMI-style image.'},
    'instance_uuid': {'type': 'string', 'is_base': False,
                      'description': 'Metadata which can be used to record which instance '
                                     'this image is associated with. (Informational only, '
                                     'does not create an instance snapshot.)'},
    'architecture': {'type': 'string', 'is_base': False,
                     'description': 'Operating system architecture as specified in '
                                    'https://docs.openstack.org/glance/latest/user/'
                                    'common-image-properties.html#architecture'},
    'os_distro': {'type': 'string', 'is_base': False,
                  'description': 'Common name of operating system distribution as specified '
                                 'in https://docs.openstack.org/glance/latest/user/'
                                 'common-image-properties.html#os-distro'},
    'os_version': {'type': 'string', 'is_base': False,
                   'description': 'Operating system version as specified by the '
                                  'distributor.'},
    'description': {'type': 'string', 'is_base': False,
                    'description': 'A human-readable string describing this image.'},
}


def _properties():
    return {
        'id': {'type': 'string', 'pattern': UUID_PATTERN,
               'description': 'An identifier for the image', 'readOnly': True},
        'name': {'type': ['null', 'string'], 'maxLength': 255,
                 'description': 'Descriptive name for the image'},
        'status': {'type': 'string', 'enum': STATUSES, 'readOnly': True,
                   'description': 'Status of the image'},
        'visibility': {'type': 'string', 'enum': VISIBILITIES,
                       'description': 'Scope of image accessibility'},
        'protected': {'type': 'boolean',
                      'description': 'If true, image will not be deletable.'},
        'os_hidden': {'type': 'boolean',
                      'description': 'If true, image will not appear in default image list '
                                     'response.'},
        'checksum': {'type': ['null', 'string'], 'maxLength': 32, 'readOnly': True,
                     'description': 'md5 hash of image contents.'},
        'os_hash_algo': {'type': ['null', 'string'], 'maxLength': 64, 'readOnly': True,
                         'description': 'Algorithm to calculate the os_hash_value'},
        'os_hash_value': {'type': ['null', 'string'], 'maxLength': 128, 'readOnly': True,
                          'description': 'Hexdigest of the image contents using the '
                                         'algorithm specified by the os_hash_algo'},
        'owner': {'type': ['null', 'string'], 'maxLength': 255,
                  'description': 'Owner of the image'},
        'size': {'type': ['null', 'integer'], 'readOnly': True,
                 'description': 'Size of image file in bytes'},
        'virtual_size': {'type': ['null', 'integer'], 'readOnly': True,
                         'description': 'Virtual size of image in bytes'},
        'container_format': {'type': ['null', 'string'],
                             'enum': [None] + list(CONF.image_format.container_formats),
                             'description': 'Format of the container'},
        'disk_format': {'type': ['null', 'string'],
                        'enum': [None] + list(CONF.image_format.disk_formats),
                        'description': 'Format of the disk'},
        'created_at': {'type': 'string', 'readOnly': True,
                       'description': 'Date and time of image registration'},
        'updated_at': {'type': 'string', 'readOnly': True,
                       'description': 'Date and time of the last image modification'},
        'tags': {'type': 'array', 'items': {'type': 'string', 'maxLength': 255},
                 'description': 'List of strings related to the image'},
        'direct_url': {'type': 'string', 'readOnly': True,
                       'description': 'URL to access the image file kept in external store'},
        'min_ram': {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT,
                    'description': 'Amount of ram (in MB) required to boot image.'},
        'min_disk': {'type': 'integer', 'minimum': 0, 'maximum': MAX_INT,
                     'description': 'Amount of disk space (in GB) required to boot image.'},
        'self': {'type': 'string', 'readOnly': True,
                 'description': 'An image self url'},
        'file': {'type': 'string', 'readOnly': True,
                 'description': 'An image file url'},
        'stores': {'type': 'string', 'readOnly': True,
                   'description': 'Store in which image data resides.  Only present when '
                                  'the operator has enabled multiple stores.'},
        'schema': {'type': 'string', 'readOnly': True,
                   'description': 'An image schema url'},
        'locations': {'type': 'array', 'items': {
            'type': 'object',
            'properties': {'url': {'type': 'string', 'maxLength': 255},
                           'metadata': {'type': 'object'},
                           'validation_data': {'type': 'object'}},
            'required': ['url', 'metadata']},
            'description': 'A set of URLs to access the image file kept in external store'},
    }


def get_schema():
    properties = _properties()
    properties.update(copy.deepcopy(_KNOWN_PROPERTIES))
    return {
        'name': 'image',
        'properties': properties,
        'additionalProperties': {'type': 'string'},
        'links': [{'href': '{self}', 'rel': 'self'},
                  {'href': '{file}', 'rel': 'enclosure'},
                  {'href': '{schema}', 'rel': 'describedby'}],
    }


def get_collection_schema():
    return {
        'name': 'images',
        'properties': {
            'images': {'type': 'array', 'items': get_schema()},
            'schema': {'type': 'string'},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
        },
        'links': [{'href': '{first}', 'rel': 'first'},
                  {'href': '{next}', 'rel': 'next'},
                  {'href': '{schema}', 'rel': 'describedby'}],
    }


_validators = {}


def _validator():
    """A validator of the current schema, built once per configuration of the formats.

    (jsonschema.validate() checks the schema itself against the metaschema at every call,
    which costs more than the rest of an image create.)
    """
    key = (tuple(CONF.image_format.container_formats), tuple(CONF.image_format.disk_formats))
    validator = _validators.get(key)
    if validator is None:
        schema = get_schema()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    return validator


def validate(image_json):
    """Check a whole image representation against the schema, or raise BadRequest.

    Custom property values are bounded here as well (the schema, which clients download
    and validate with, keeps upstream's shape).
    """
    error = jsonschema.exceptions.best_match(_validator().iter_errors(image_json))
    if error is not None:
        where = '.'.join(str(p) for p in error.absolute_path)
        raise exception.SchemaValidationError(
            reason='%s%s' % ('%s: ' % where if where else '', error.message))
    for name, value in image_json.items():
        if isinstance(value, str) and len(value.encode('utf-8')) > MAX_VALUE_BYTES:
            raise exception.SchemaValidationError(
                reason='%s: the value is longer than %d bytes' % (name, MAX_VALUE_BYTES))


def list_opts():
    return [('image_format', image_format_opts)]
