"""Database functions of the metadata definitions catalog (``/v2/metadefs``).

Kept apart from glance/db/api.py, which is about images. Same conventions: plain dicts in and
out, one call is one short transaction (the sessions, the SQLite write lock and the retry on
"database is locked" come from glance.db.api). Who may see or change what is decided above,
in glance/metadef/service.py; these functions only know names, owners and visibility.

JSON documents (a property's schema, an object's properties) are stored as text in the order
they were given, so what ``glance-manage db export_metadefs`` writes matches what was loaded.
"""

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as sqlalchemyutils
from oslo_serialization import jsonutils
import sqlalchemy as sa

from glance.common import exception
from glance.db import api as db_api
from glance.db import models

NAMESPACE_SORT_KEYS = ('namespace', 'display_name', 'created_at', 'updated_at')
CHILD_SORT_KEYS = ('name', 'created_at', 'updated_at')

_NAMESPACE_FIELDS = ('namespace', 'display_name', 'description', 'visibility', 'protected',
                     'owner')


def _dumps(value):
    return jsonutils.dumps(value)


def _loads(text, default):
    return jsonutils.loads(text) if text else default


# --- row -> dict ----------------------------------------------------------------------------

def _namespace_dict(row):
    return {'id': row.id, 'namespace': row.namespace, 'display_name': row.display_name,
            'description': row.description, 'visibility': row.visibility,
            'protected': bool(row.protected), 'owner': row.owner,
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _object_dict(row):
    return {'id': row.id, 'namespace_id': row.namespace_id, 'name': row.name,
            'description': row.description, 'required': _loads(row.required, []),
            'properties': _loads(row.json_schema, {}),
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _property_dict(row):
    return {'id': row.id, 'namespace_id': row.namespace_id, 'name': row.name,
            'schema': _loads(row.json_schema, {}),
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _tag_dict(row):
    return {'id': row.id, 'namespace_id': row.namespace_id, 'name': row.name,
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _resource_type_dict(row):
    return {'id': row.id, 'name': row.name, 'protected': bool(row.protected),
            'created_at': row.created_at, 'updated_at': row.updated_at}


def _association_dict(assoc, resource_type_name):
    return {'name': resource_type_name, 'prefix': assoc.prefix,
            'properties_target': assoc.properties_target,
            'created_at': assoc.created_at, 'updated_at': assoc.updated_at}


# --- helpers --------------------------------------------------------------------------------

def _get_namespace(session, namespace):
    row = session.query(models.MetadefNamespace).filter_by(namespace=namespace).first()
    if row is None:
        raise exception.MetadefNamespaceNotFound(namespace=namespace)
    return row


def _flush(session, what):
    """Flush, turning a unique-constraint violation into a 409 naming ``what``."""
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate('%s already exists.' % what)


def _page(query, model, unique_key, marker_row, limit, sort_key, sort_dir, sort_keys):
    """Sort and cut a query: ``sort_key`` then the unique key, so pages never overlap."""
    if sort_key not in sort_keys:
        raise exception.InvalidSortKey(key=sort_key)
    keys = [sort_key] + ([unique_key] if sort_key != unique_key else []) + ['id']
    return sqlalchemyutils.paginate_query(query, model, limit, keys, marker=marker_row,
                                          sort_dirs=[sort_dir] * len(keys))


def _resource_type(session, name, create=False):
    row = session.query(models.MetadefResourceType).filter_by(name=name).first()
    if row is None and create:
        row = models.MetadefResourceType(name=name, protected=False)
        session.add(row)
        _flush(session, 'Resource type %s' % name)
    return row


def _add_object(session, namespace_row, values):
    row = models.MetadefObject(
        namespace_id=namespace_row.id, name=values['name'],
        description=values.get('description'), required=_dumps(values.get('required') or []),
        json_schema=_dumps(values.get('properties') or {}))
    session.add(row)
    _flush(session, 'Object %s in namespace %s' % (values['name'], namespace_row.namespace))
    return row


def _add_property(session, namespace_row, name, schema):
    row = models.MetadefProperty(namespace_id=namespace_row.id, name=name,
                                 json_schema=_dumps(schema))
    session.add(row)
    _flush(session, 'Property %s in namespace %s' % (name, namespace_row.namespace))
    return row


def _add_tag(session, namespace_row, name):
    row = models.MetadefTag(namespace_id=namespace_row.id, name=name)
    session.add(row)
    _flush(session, 'Tag %s in namespace %s' % (name, namespace_row.namespace))
    return row


def _add_association(session, namespace_row, values):
    resource_type = _resource_type(session, values['name'], create=True)
    row = models.MetadefNamespaceResourceType(
        namespace_id=namespace_row.id, resource_type_id=resource_type.id,
        prefix=values.get('prefix'), properties_target=values.get('properties_target'))
    session.add(row)
    _flush(session, 'The association of resource type %s with namespace %s'
           % (values['name'], namespace_row.namespace))
    return row, resource_type


def _associations(session, namespace_ids):
    """{namespace_id: [association dict]} for the namespaces, by resource type name."""
    rows = session.query(models.MetadefNamespaceResourceType, models.MetadefResourceType.name)\
        .join(models.MetadefResourceType,
              models.MetadefResourceType.id == models.MetadefNamespaceResourceType
              .resource_type_id)\
        .filter(models.MetadefNamespaceResourceType.namespace_id.in_(namespace_ids))\
        .order_by(models.MetadefResourceType.name).all()
    result = {}
    for assoc, name in rows:
        result.setdefault(assoc.namespace_id, []).append(_association_dict(assoc, name))
    return result


def _children(session, model, namespace_id):
    return session.query(model).filter_by(namespace_id=namespace_id).order_by(model.id).all()


def _detail(session, row):
    result = _namespace_dict(row)
    result['resource_type_associations'] = _associations(session, [row.id]).get(row.id, [])
    result['properties'] = [_property_dict(p)
                            for p in _children(session, models.MetadefProperty, row.id)]
    result['objects'] = [_object_dict(o)
                         for o in _children(session, models.MetadefObject, row.id)]
    result['tags'] = [_tag_dict(t) for t in _children(session, models.MetadefTag, row.id)]
    return result


def _fill(session, row, content):
    """Add the properties, objects, tags and associations of ``content`` to a namespace."""
    for name, schema in (content.get('properties') or {}).items():
        _add_property(session, row, name, schema)
    for obj in content.get('objects') or []:
        _add_object(session, row, obj)
    for tag in content.get('tags') or []:
        _add_tag(session, row, tag['name'])
    for assoc in content.get('resource_type_associations') or []:
        _add_association(session, row, assoc)


# --- namespaces -----------------------------------------------------------------------------

@db_api._retry
def namespace_create(values, content=None):
    """Create a namespace and its content, in one transaction.

    ``content`` has the shape of a POST body: properties, objects, tags and
    resource_type_associations.
    """
    with db_api._session(write=True) as session:
        row = models.MetadefNamespace(**{k: values[k] for k in _NAMESPACE_FIELDS
                                         if k in values})
        session.add(row)
        _flush(session, 'Namespace %s' % values['namespace'])
        _fill(session, row, content or {})
        return _detail(session, row)


def namespace_get(namespace):
    with db_api._session() as session:
        return _namespace_dict(_get_namespace(session, namespace))


def namespace_get_detail(namespace):
    """The namespace with its associations, properties, objects and tags."""
    with db_api._session() as session:
        return _detail(session, _get_namespace(session, namespace))


def namespace_get_all(project_id=None, is_admin=False, visibility=None, resource_types=None,
                      marker=None, limit=None, sort_key='created_at', sort_dir='desc'):
    """Namespaces the caller may list, with their resource type associations.

    Public ones and the project's own; every one for an admin.
    """
    with db_api._session() as session:
        model = models.MetadefNamespace
        query = session.query(model)
        if not is_admin:
            query = query.filter(sa.or_(model.visibility == 'public',
                                        model.owner == project_id))
        if visibility is not None:
            query = query.filter(model.visibility == visibility)
        if resource_types:
            associated = sa.select(models.MetadefNamespaceResourceType.namespace_id).join(
                models.MetadefResourceType,
                models.MetadefResourceType.id ==
                models.MetadefNamespaceResourceType.resource_type_id).where(
                models.MetadefResourceType.name.in_(resource_types))
            query = query.filter(model.id.in_(associated))
        marker_row = None
        if marker is not None:
            marker_row = session.query(model).filter_by(namespace=marker).first()
            if marker_row is None:
                raise exception.MetadefNamespaceNotFound(namespace=marker)
        rows = _page(query, model, 'namespace', marker_row, limit, sort_key, sort_dir,
                     NAMESPACE_SORT_KEYS).all()
        associations = _associations(session, [r.id for r in rows]) if rows else {}
        result = []
        for row in rows:
            namespace = _namespace_dict(row)
            namespace['resource_type_associations'] = associations.get(row.id, [])
            result.append(namespace)
        return result


@db_api._retry
def namespace_update(namespace, values):
    with db_api._session(write=True) as session:
        row = _get_namespace(session, namespace)
        for key in _NAMESPACE_FIELDS:
            if key in values:
                setattr(row, key, values[key])
        row.updated_at = models.now()
        _flush(session, 'Namespace %s' % values.get('namespace'))
        return _namespace_dict(row)


@db_api._retry
def namespace_delete(namespace):
    """Delete a namespace and everything in it."""
    with db_api._session(write=True) as session:
        row = _get_namespace(session, namespace)
        _clear(session, row, associations=True)
        session.delete(row)


def _clear(session, row, properties=True, objects=True, tags=True, associations=False):
    for flag, model in ((properties, models.MetadefProperty),
                        (objects, models.MetadefObject), (tags, models.MetadefTag),
                        (associations, models.MetadefNamespaceResourceType)):
        if flag:
            session.query(model).filter_by(namespace_id=row.id).delete(
                synchronize_session=False)


# --- objects, properties, tags --------------------------------------------------------------

def _child_get_all(model, to_dict, namespace, marker, limit, sort_key, sort_dir, not_found):
    with db_api._session() as session:
        row = _get_namespace(session, namespace)
        query = session.query(model).filter_by(namespace_id=row.id)
        marker_row = None
        if marker is not None:
            marker_row = query.filter_by(name=marker).first()
            if marker_row is None:
                raise not_found(namespace=namespace, name=marker)
        return [to_dict(r) for r in _page(query, model, 'name', marker_row, limit, sort_key,
                                          sort_dir, CHILD_SORT_KEYS).all()]


def _child(session, model, namespace, name, not_found):
    row = _get_namespace(session, namespace)
    child = session.query(model).filter_by(namespace_id=row.id, name=name).first()
    if child is None:
        raise not_found(namespace=namespace, name=name)
    return child


@db_api._retry
def _child_delete(model, namespace, name, not_found):
    with db_api._session(write=True) as session:
        session.delete(_child(session, model, namespace, name, not_found))


@db_api._retry
def _child_delete_all(namespace, **kinds):
    with db_api._session(write=True) as session:
        _clear(session, _get_namespace(session, namespace), **kinds)


@db_api._retry
def object_create(namespace, values):
    with db_api._session(write=True) as session:
        return _object_dict(_add_object(session, _get_namespace(session, namespace), values))


def object_get(namespace, name):
    with db_api._session() as session:
        return _object_dict(_child(session, models.MetadefObject, namespace, name,
                                   exception.MetadefObjectNotFound))


def object_get_all(namespace, marker=None, limit=None, sort_key='created_at',
                   sort_dir='desc'):
    return _child_get_all(models.MetadefObject, _object_dict, namespace, marker, limit,
                          sort_key, sort_dir, exception.MetadefObjectNotFound)


@db_api._retry
def object_update(namespace, name, values):
    """Replace an object's name, description, required list and properties."""
    with db_api._session(write=True) as session:
        row = _child(session, models.MetadefObject, namespace, name,
                     exception.MetadefObjectNotFound)
        row.name = values['name']
        row.description = values.get('description')
        row.required = _dumps(values.get('required') or [])
        row.json_schema = _dumps(values.get('properties') or {})
        row.updated_at = models.now()
        _flush(session, 'Object %s in namespace %s' % (values['name'], namespace))
        return _object_dict(row)


def object_delete(namespace, name):
    _child_delete(models.MetadefObject, namespace, name, exception.MetadefObjectNotFound)


def objects_delete_all(namespace):
    _child_delete_all(namespace, properties=False, objects=True, tags=False)


@db_api._retry
def property_create(namespace, name, schema):
    with db_api._session(write=True) as session:
        return _property_dict(_add_property(session, _get_namespace(session, namespace),
                                            name, schema))


def property_get(namespace, name):
    with db_api._session() as session:
        return _property_dict(_child(session, models.MetadefProperty, namespace, name,
                                     exception.MetadefPropertyNotFound))


def property_get_all(namespace):
    with db_api._session() as session:
        row = _get_namespace(session, namespace)
        return [_property_dict(p) for p in _children(session, models.MetadefProperty, row.id)]


@db_api._retry
def property_update(namespace, name, new_name, schema):
    with db_api._session(write=True) as session:
        row = _child(session, models.MetadefProperty, namespace, name,
                     exception.MetadefPropertyNotFound)
        row.name = new_name
        row.json_schema = _dumps(schema)
        row.updated_at = models.now()
        _flush(session, 'Property %s in namespace %s' % (new_name, namespace))
        return _property_dict(row)


def property_delete(namespace, name):
    _child_delete(models.MetadefProperty, namespace, name, exception.MetadefPropertyNotFound)


def properties_delete_all(namespace):
    _child_delete_all(namespace, properties=True, objects=False, tags=False)


@db_api._retry
def tag_create(namespace, name):
    with db_api._session(write=True) as session:
        return _tag_dict(_add_tag(session, _get_namespace(session, namespace), name))


@db_api._retry
def tags_create(namespace, names, append=False):
    """Create several tags at once; without ``append`` they replace the namespace's tags."""
    with db_api._session(write=True) as session:
        row = _get_namespace(session, namespace)
        if not append:
            _clear(session, row, properties=False, objects=False, tags=True)
        return [_tag_dict(_add_tag(session, row, name)) for name in names]


def tag_get(namespace, name):
    with db_api._session() as session:
        return _tag_dict(_child(session, models.MetadefTag, namespace, name,
                                exception.MetadefTagNotFound))


def tag_get_all(namespace, marker=None, limit=None, sort_key='created_at', sort_dir='desc'):
    return _child_get_all(models.MetadefTag, _tag_dict, namespace, marker, limit, sort_key,
                          sort_dir, exception.MetadefTagNotFound)


@db_api._retry
def tag_update(namespace, name, new_name):
    with db_api._session(write=True) as session:
        row = _child(session, models.MetadefTag, namespace, name, exception.MetadefTagNotFound)
        row.name = new_name
        row.updated_at = models.now()
        _flush(session, 'Tag %s in namespace %s' % (new_name, namespace))
        return _tag_dict(row)


def tag_delete(namespace, name):
    _child_delete(models.MetadefTag, namespace, name, exception.MetadefTagNotFound)


def tags_delete_all(namespace):
    _child_delete_all(namespace, properties=False, objects=False, tags=True)


# --- resource types -------------------------------------------------------------------------

def resource_type_get_all():
    with db_api._session() as session:
        return [_resource_type_dict(r) for r in session.query(models.MetadefResourceType)
                .order_by(models.MetadefResourceType.name).all()]


def association_get_all(namespace):
    with db_api._session() as session:
        row = _get_namespace(session, namespace)
        return _associations(session, [row.id]).get(row.id, [])


@db_api._retry
def association_create(namespace, values):
    """Associate a resource type (created if new) with a namespace."""
    with db_api._session(write=True) as session:
        assoc, resource_type = _add_association(session, _get_namespace(session, namespace),
                                                values)
        return _association_dict(assoc, resource_type.name)


@db_api._retry
def association_delete(namespace, resource_type_name):
    with db_api._session(write=True) as session:
        row = _get_namespace(session, namespace)
        resource_type = _resource_type(session, resource_type_name)
        count = 0
        if resource_type is not None:
            count = session.query(models.MetadefNamespaceResourceType).filter_by(
                namespace_id=row.id, resource_type_id=resource_type.id).delete()
        if not count:
            raise exception.MetadefResourceTypeAssociationNotFound(
                namespace=namespace, name=resource_type_name)


# --- the catalog as a whole (glance-manage) -------------------------------------------------

def catalog_is_empty():
    with db_api._session() as session:
        return not (session.query(models.MetadefNamespace.id).first()
                    or session.query(models.MetadefResourceType.id).first())


@db_api._retry
def catalog_import(document, merge=False, prefer_new=False, overwrite=False):
    """Load one namespace document (upstream's file format) in one transaction.

    A new namespace is created with everything in it. An existing one is left alone
    ("skipped") unless ``merge``: then what the document adds is added; with ``prefer_new``
    the namespace's fields and its existing properties, objects and associations take the
    document's values; with ``overwrite`` its content is first deleted, so it ends up
    exactly as the document says. Returns "created", "merged" or "skipped".
    """
    values = {k: document[k] for k in _NAMESPACE_FIELDS if k in document}
    with db_api._session(write=True) as session:
        row = session.query(models.MetadefNamespace).filter_by(
            namespace=document['namespace']).first()
        if row is None:
            values.setdefault('visibility', 'private')
            values.setdefault('protected', False)
            row = models.MetadefNamespace(**values)
            session.add(row)
            _flush(session, 'Namespace %s' % document['namespace'])
            _fill(session, row, document)
            return 'created'
        if not merge:
            return 'skipped'
        if overwrite:
            _clear(session, row, associations=True)
            session.flush()
        if prefer_new or overwrite:
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = models.now()
        _merge_content(session, row, document, replace=prefer_new or overwrite)
        return 'merged'


def _merge_content(session, row, document, replace):
    properties = {p.name: p for p in _children(session, models.MetadefProperty, row.id)}
    for name, schema in (document.get('properties') or {}).items():
        if name not in properties:
            _add_property(session, row, name, schema)
        elif replace:
            properties[name].json_schema = _dumps(schema)
    objects = {o.name: o for o in _children(session, models.MetadefObject, row.id)}
    for obj in document.get('objects') or []:
        if obj['name'] not in objects:
            _add_object(session, row, obj)
        elif replace:
            existing = objects[obj['name']]
            existing.description = obj.get('description')
            existing.required = _dumps(obj.get('required') or [])
            existing.json_schema = _dumps(obj.get('properties') or {})
    tags = {t.name for t in _children(session, models.MetadefTag, row.id)}
    for tag in document.get('tags') or []:
        if tag['name'] not in tags:
            _add_tag(session, row, tag['name'])
    current = {a['name']: a for a in _associations(session, [row.id]).get(row.id, [])}
    for assoc in document.get('resource_type_associations') or []:
        if assoc['name'] not in current:
            _add_association(session, row, assoc)
        elif replace:
            resource_type = _resource_type(session, assoc['name'])
            existing = session.get(models.MetadefNamespaceResourceType,
                                   (resource_type.id, row.id))
            existing.prefix = assoc.get('prefix')
            existing.properties_target = assoc.get('properties_target')


def catalog_export():
    """Every namespace with its content (for glance-manage db export_metadefs)."""
    with db_api._session() as session:
        return [_detail(session, row) for row in session.query(models.MetadefNamespace)
                .order_by(models.MetadefNamespace.namespace).all()]


@db_api._retry
def catalog_delete():
    """Delete every namespace, its content and every resource type."""
    with db_api._session(write=True) as session:
        for model in (models.MetadefNamespaceResourceType, models.MetadefTag,
                      models.MetadefProperty, models.MetadefObject, models.MetadefNamespace,
                      models.MetadefResourceType):
            session.query(model).delete(synchronize_session=False)
