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
                      'upload_heartbeat_at', 'upload_store'])
RESERVED_PREFIX = 'os_glance'

# Core properties that map to image columns (the rest of the schema is read-only or links).
CORE_WRITABLE = ('name', 'visibility', 'protected', 'os_hidden', 'owner', 'container_format',
                 'disk_format', 'min_ram', 'min_disk', 'tags')

# Bounds of the columns behind the properties, the same on every engine (MySQL's TEXT holds
# 65535 bytes; PostgreSQL and SQLite would take more, so the smallest rules).
MAX_INT = 2 ** 31 - 1            # min_ram, min_disk: INTEGER
MAX_BIGINT = 2 ** 63 - 1         # size, virtual_size: BIGINT
MAX_NAME_LENGTH = 255            # property names, tags, ids of projects: VARCHAR(255)
MAX_VALUE_BYTES = 65535          # custom property values: TEXT, in UTF-8


def check_property_name(name):
    """Raise BadRequest for a name no engine can store, Forbidden for one a client may not set.

    An empty name is refused too: upstream stores it, and then no JSON patch can remove it.
    """
    if not name:
        raise exception.BadRequest('A property name must not be empty.')
    if len(name) > MAX_NAME_LENGTH:
        raise exception.BadRequest('Property name %s... is longer than %d characters.'
                                   % (name[:32], MAX_NAME_LENGTH))
    if name in READ_ONLY:
        raise exception.ReadonlyProperty(property=name)
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise exception.ReservedProperty(property=name)
