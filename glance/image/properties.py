"""Which image properties a client may set: the rules behind the schema and the service.

The core properties that map to image columns, those only the server sets (403 if a client
tries), and the names no client may use for custom properties. The API's JSON schema
(glance.api.v2.image_schema) and the image service both follow these.
"""

from glance.common import exception

# Properties the server sets; a client that tries to set one gets 403.
READ_ONLY = frozenset(['id', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size',
                       'virtual_size', 'created_at', 'updated_at', 'self', 'file', 'schema',
                       'direct_url', 'stores'])
# Names no client may use as custom properties either.
RESERVED = frozenset(['location', 'deleted', 'deleted_at', 'upload_holder',
                      'upload_heartbeat_at'])
RESERVED_PREFIX = 'os_glance'

# Core properties that map to image columns (the rest of the schema is read-only or links).
CORE_WRITABLE = ('name', 'visibility', 'protected', 'os_hidden', 'owner', 'container_format',
                 'disk_format', 'min_ram', 'min_disk', 'tags')


def check_property_name(name):
    """Raise Forbidden if a client may not set a property of this name."""
    if name in READ_ONLY:
        raise exception.ReadonlyProperty(property=name)
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise exception.ReservedProperty(property=name)
