"""The metadata definitions catalog on disk: load, export and unload namespace files.

The file format is upstream Glance's (``etc/metadefs/*.json``): one JSON file per namespace,
holding its fields, ``resource_type_associations``, ``properties``, ``objects`` and
``tags``. So an operator's existing catalog loads unchanged, and what this module exports
loads into upstream Glance too.

Export writes a canonical form: the keys in the order above, fields without a value and
empty lists left out (``properties`` and an object's ``required`` and ``properties`` are
always written), associations sorted by resource type name, properties, objects and tags in
the order they were loaded, 4-space indentation and a final newline. A file already in that
form (as every file of etc/metadefs is) comes back byte for byte after a load and an export.

``glance-manage db sync`` loads the shipped catalog into a fresh database (see
``load_if_new``).
"""

import json
import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import metadefs as db
from glance.metadef import schema

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

catalog_opts = [
    cfg.StrOpt('metadata_source_path', default=None,
               sample_default='/etc/glance/metadefs/',
               help='Directory of the metadata definitions catalog (one JSON file per '
                    'namespace) that "glance-manage db load_metadefs" reads and "db sync" '
                    'loads into a new database. When unset, the first of '
                    '/etc/glance/metadefs, <python prefix>/etc/glance/metadefs (where '
                    'pip installs the shipped catalog) and the source tree\'s etc/metadefs '
                    'that exists.'),
]
CONF.register_opts(catalog_opts)

_SOURCE_TREE = os.path.join(os.path.dirname(__file__), '..', '..', 'etc', 'metadefs')


def default_path():
    """The catalog directory: the option, else the first shipped location that exists."""
    if CONF.metadata_source_path:
        return CONF.metadata_source_path
    for path in ('/etc/glance/metadefs', os.path.join(sys.prefix, 'etc', 'glance', 'metadefs'),
                 os.path.abspath(_SOURCE_TREE)):
        if os.path.isdir(path):
            return path
    return None


def read_file(path):
    """One namespace document from a file, checked against the namespace schema."""
    try:
        with open(path, encoding='utf-8') as f:
            document = json.load(f)
    except (OSError, ValueError) as e:
        raise exception.BadRequest('%s cannot be read as JSON: %s' % (path, e))
    try:
        schema.validate('namespace', document)
    except exception.BadRequest as e:
        raise exception.BadRequest('%s: %s' % (path, e))
    return document


def _files(path):
    if not path or not os.path.isdir(path):
        raise exception.BadRequest('The metadefs directory %s does not exist.' % path)
    return sorted(os.path.join(path, name) for name in os.listdir(path)
                  if name.endswith('.json'))


def load(path=None, merge=False, prefer_new=False, overwrite=False):
    """Load every ``*.json`` of ``path``: {"created"|"merged"|"skipped": [namespace]}.

    Every file is read and checked before the first is loaded, so a bad file loads nothing.
    """
    documents = [read_file(name) for name in _files(path or default_path())]
    result = {'created': [], 'merged': [], 'skipped': []}
    for document in documents:
        outcome = db.catalog_import(document, merge=merge, prefer_new=prefer_new,
                                    overwrite=overwrite)
        result[outcome].append(document['namespace'])
        LOG.info('Metadef namespace %s: %s', document['namespace'], outcome)
    return result


def load_if_new(newly_created):
    """Load the shipped catalog into a database whose metadef tables were just created.

    Called by ``glance-manage db sync``: only on a database that had no catalog tables
    before the sync and whose catalog is still empty, so an operator's own catalog (or an
    emptied one) is never touched by an upgrade. Returns the namespaces loaded.
    """
    if not newly_created or not db.catalog_is_empty():
        return []
    path = default_path()
    if path is None:
        LOG.info('No metadefs catalog found to load')
        return []
    return load(path)['created']


def document(namespace):
    """The canonical file content (a dict, in key order) of a db namespace detail."""
    result = {}
    for key in ('namespace', 'display_name', 'description', 'visibility', 'protected',
                'owner'):
        if namespace.get(key) is not None:
            result[key] = namespace[key]
    associations = []
    for assoc in namespace['resource_type_associations']:
        entry = {'name': assoc['name']}
        for key in ('prefix', 'properties_target'):
            if assoc[key] is not None:
                entry[key] = assoc[key]
        associations.append(entry)
    if associations:
        result['resource_type_associations'] = associations
    result['properties'] = {p['name']: p['schema'] for p in namespace['properties']}
    objects = []
    for obj in namespace['objects']:
        entry = {'name': obj['name']}
        if obj['description'] is not None:
            entry['description'] = obj['description']
        entry['required'] = obj['required']
        entry['properties'] = obj['properties']
        objects.append(entry)
    if objects:
        result['objects'] = objects
    if namespace['tags']:
        result['tags'] = [{'name': t['name']} for t in namespace['tags']]
    return result


def dumps(content):
    return json.dumps(content, indent=4, ensure_ascii=False) + '\n'


def file_name(namespace):
    """A file name for a namespace (``OS::Compute::Watchdog`` -> ``OS--Compute--Watchdog``)."""
    return namespace.replace(':', '-').replace('/', '_') + '.json'


def export(path=None):
    """Write every namespace to ``path`` (one file each); returns the files written."""
    path = path or default_path()
    if not path:
        raise exception.BadRequest('No metadefs directory: give --path.')
    os.makedirs(path, exist_ok=True)
    written = []
    for namespace in db.catalog_export():
        target = os.path.join(path, file_name(namespace['namespace']))
        with open(target, 'w', encoding='utf-8') as f:
            f.write(dumps(document(namespace)))
        written.append(target)
    return written


def unload():
    """Delete the whole catalog from the database (the files stay)."""
    db.catalog_delete()


def list_opts():
    return [(None, catalog_opts)]
