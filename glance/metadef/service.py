"""The metadata definitions catalog: one function per action, calling policy and the db.

Each function loads the namespace, lets ``NamespacePolicy`` decide (404 for an invisible
namespace, 403 for a denied rule), refuses deletes inside a protected namespace, then
calls glance/db/metadefs.py. Bodies arrive validated against glance/metadef/schema.py.
"""

from oslo_log import log as logging

from glance.common import exception
from glance.db import metadefs as db
from glance.metadef import policy as metadef_policy

LOG = logging.getLogger(__name__)


def _load(context, namespace, rule):
    """The namespace dict, after its visibility and ``rule`` are checked."""
    ns = db.namespace_get(namespace)
    metadef_policy.NamespacePolicy(context, ns).enforce(rule)
    return ns


def _refuse_if_protected(ns, kind):
    if ns['protected']:
        raise exception.ProtectedMetadefContentDelete(namespace=ns['namespace'], kind=kind)


def _association(associations, resource_type, namespace):
    for assoc in associations:
        if assoc['name'] == resource_type:
            return assoc
    raise exception.MetadefResourceTypeAssociationNotFound(namespace=namespace,
                                                           name=resource_type)


# --- namespaces -----------------------------------------------------------------------------

def list_namespaces(context, visibility=None, resource_types=None, marker=None, limit=None,
                    sort_key='created_at', sort_dir='desc'):
    metadef_policy.enforce_global(context, 'get_metadef_namespaces')
    if marker is not None:
        try:
            marker_ns = db.namespace_get(marker)
        except exception.MetadefNamespaceNotFound:
            marker_ns = None
        # An invisible marker is as good as a missing one: never confirm another's name.
        if marker_ns is None or not metadef_policy.is_visible(context, marker_ns):
            raise exception.BadRequest('Marker %s could not be found.' % marker)
    return db.namespace_get_all(
        project_id=context.project_id, is_admin=context.is_admin, visibility=visibility,
        resource_types=resource_types, marker=marker, limit=limit, sort_key=sort_key,
        sort_dir=sort_dir)


def get_namespace(context, namespace, resource_type=None):
    """The namespace with its content.

    With ``resource_type``, property names carry the prefix of that resource type's
    association (as a UI would apply them); a resource type the namespace is not associated
    with changes nothing, as upstream.
    """
    _load(context, namespace, 'get_metadef_namespace')
    detail = db.namespace_get_detail(namespace)
    prefixes = {a['name']: a['prefix'] for a in detail['resource_type_associations']}
    prefix = prefixes.get(resource_type) if resource_type else None
    if prefix:
        for prop in detail['properties']:
            prop['name'] = prefix + prop['name']
        for obj in detail['objects']:
            obj['properties'] = {prefix + k: v for k, v in obj['properties'].items()}
    return detail


def _split_content(body):
    values = {k: body[k] for k in ('namespace', 'display_name', 'description', 'visibility',
                                   'protected', 'owner') if k in body}
    content = {k: body[k] for k in ('properties', 'objects', 'tags',
                                    'resource_type_associations') if k in body}
    return values, content


def create_namespace(context, body):
    values, content = _split_content(body)
    values.setdefault('owner', context.project_id)
    values.setdefault('visibility', 'private')
    values.setdefault('protected', False)
    metadef_policy.enforce_global(context, 'add_metadef_namespace', values['owner'])
    if values['owner'] != context.project_id and not context.is_admin:
        raise exception.Forbidden("You are not permitted to create namespaces owned by '%s'."
                                  % values['owner'])
    names = [t['name'] for t in content.get('tags') or []]
    if len(set(names)) != len(names):
        raise exception.Duplicate('The request lists a tag more than once.')
    ns = db.namespace_create(values, content)
    LOG.info('Metadef namespace %s created by project %s', ns['namespace'],
             context.project_id)
    return ns


def update_namespace(context, namespace, body):
    """Replace the namespace's fields (PUT): what the body leaves out takes its default."""
    ns = _load(context, namespace, 'modify_metadef_namespace')
    values = {
        'namespace': body['namespace'],
        'display_name': body.get('display_name'),
        'description': body.get('description'),
        'visibility': body.get('visibility') or 'private',
        'protected': bool(body.get('protected', False)),
        'owner': body.get('owner') or ns['owner'] or context.project_id,
    }
    if values['owner'] != ns['owner'] and not context.is_admin:
        raise exception.Forbidden('Only an admin may change the owner of a namespace.')
    return db.namespace_update(namespace, values)


def delete_namespace(context, namespace):
    ns = _load(context, namespace, 'delete_metadef_namespace')
    if ns['protected']:
        raise exception.ProtectedMetadefNamespaceDelete(namespace=namespace)
    db.namespace_delete(namespace)
    LOG.info('Metadef namespace %s deleted by project %s', namespace, context.project_id)


# --- objects --------------------------------------------------------------------------------

def list_objects(context, namespace, **params):
    _load(context, namespace, 'get_metadef_objects')
    return db.object_get_all(namespace, **params)


def get_object(context, namespace, name):
    _load(context, namespace, 'get_metadef_object')
    return db.object_get(namespace, name)


def create_object(context, namespace, body):
    _load(context, namespace, 'add_metadef_object')
    return db.object_create(namespace, body)


def update_object(context, namespace, name, body):
    _load(context, namespace, 'modify_metadef_object')
    return db.object_update(namespace, name, body)


def delete_object(context, namespace, name):
    ns = _load(context, namespace, 'delete_metadef_object')
    _refuse_if_protected(ns, 'objects')
    db.object_delete(namespace, name)


def delete_objects(context, namespace):
    ns = _load(context, namespace, 'delete_metadef_objects')
    _refuse_if_protected(ns, 'objects')
    db.objects_delete_all(namespace)


# --- properties -----------------------------------------------------------------------------

def list_properties(context, namespace):
    _load(context, namespace, 'get_metadef_properties')
    return db.property_get_all(namespace)


def get_property(context, namespace, name, resource_type=None):
    """A property; with ``resource_type``, ``name`` may carry that association's prefix."""
    _load(context, namespace, 'get_metadef_property')
    shown = name
    if resource_type:
        prefix = _association(db.association_get_all(namespace), resource_type,
                              namespace)['prefix'] or ''
        if not name.startswith(prefix):
            raise exception.MetadefPropertyNotFound(namespace=namespace, name=name)
        name = name[len(prefix):]
    prop = db.property_get(namespace, name)
    prop['name'] = shown
    return prop


def _property_schema(body):
    return {k: v for k, v in body.items() if k != 'name'}


def create_property(context, namespace, body):
    _load(context, namespace, 'add_metadef_property')
    return db.property_create(namespace, body['name'], _property_schema(body))


def update_property(context, namespace, name, body):
    _load(context, namespace, 'modify_metadef_property')
    return db.property_update(namespace, name, body['name'], _property_schema(body))


def delete_property(context, namespace, name):
    ns = _load(context, namespace, 'remove_metadef_property')
    _refuse_if_protected(ns, 'properties')
    db.property_delete(namespace, name)


def delete_properties(context, namespace):
    ns = _load(context, namespace, 'remove_metadef_properties')
    _refuse_if_protected(ns, 'properties')
    db.properties_delete_all(namespace)


# --- tags -----------------------------------------------------------------------------------

def list_tags(context, namespace, **params):
    _load(context, namespace, 'get_metadef_tags')
    return db.tag_get_all(namespace, **params)


def get_tag(context, namespace, name):
    _load(context, namespace, 'get_metadef_tag')
    return db.tag_get(namespace, name)


def create_tag(context, namespace, name):
    _load(context, namespace, 'add_metadef_tag')
    return db.tag_create(namespace, name)


def create_tags(context, namespace, names, append=False):
    """Create several tags; without ``append`` they replace the namespace's tags."""
    ns = _load(context, namespace, 'add_metadef_tags')
    if len(set(names)) != len(names):
        raise exception.Duplicate('The request lists a tag more than once.')
    if not append:
        _refuse_if_protected(ns, 'tags')
    return db.tags_create(namespace, names, append=append)


def update_tag(context, namespace, name, new_name):
    _load(context, namespace, 'modify_metadef_tag')
    return db.tag_update(namespace, name, new_name)


def delete_tag(context, namespace, name):
    ns = _load(context, namespace, 'delete_metadef_tag')
    _refuse_if_protected(ns, 'tags')
    db.tag_delete(namespace, name)


def delete_tags(context, namespace):
    ns = _load(context, namespace, 'delete_metadef_tags')
    _refuse_if_protected(ns, 'tags')
    db.tags_delete_all(namespace)


# --- resource types -------------------------------------------------------------------------

def list_resource_types(context):
    metadef_policy.enforce_global(context, 'list_metadef_resource_types')
    return db.resource_type_get_all()


def list_associations(context, namespace):
    _load(context, namespace, 'get_metadef_resource_type')
    return db.association_get_all(namespace)


def associate(context, namespace, body):
    _load(context, namespace, 'add_metadef_resource_type_association')
    return db.association_create(namespace, body)


def deassociate(context, namespace, resource_type):
    ns = _load(context, namespace, 'remove_metadef_resource_type_association')
    _refuse_if_protected(ns, 'resource type associations')
    db.association_delete(namespace, resource_type)
