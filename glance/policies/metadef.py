"""Default rules for the metadata definitions catalog (``/v2/metadefs``), secure RBAC.

The catalog is the deployment's: admins write it, readers read it. Two base rules carry
that, so an operator who wants, say, project members to keep their own namespaces changes
``metadef_admin`` once instead of twenty rules. Which namespaces a caller may see at all
(public ones and its project's own) is decided before these rules
(glance/metadef/policy.py): an invisible namespace answers 404 whatever a rule says.

Target: ``project_id`` is the namespace's owner (the caller's project for lists).
"""

from oslo_policy import policy

from glance.policies import base

METADEF_ADMIN = 'rule:metadef_admin'
METADEF_DEFAULT = 'rule:metadef_default'

_NS = '/v2/metadefs/namespaces/{namespace_name}'


def _rule(name, check_str, description, path, method):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, scope_types=['project'], description=description,
        operations=[{'path': path, 'method': method}])


rules = [
    policy.RuleDefault(
        name='metadef_default', check_str=base.ADMIN_OR_READER,
        description='Who may read the metadata definitions catalog (what each caller sees '
                    'is further limited to public namespaces and its own project\'s).'),
    policy.RuleDefault(
        name='metadef_admin', check_str='rule:context_is_admin',
        description='Who may change the metadata definitions catalog.'),

    _rule('get_metadef_namespaces', METADEF_DEFAULT, 'List namespaces.',
          '/v2/metadefs/namespaces', 'GET'),
    _rule('get_metadef_namespace', METADEF_DEFAULT, 'Show a namespace.', _NS, 'GET'),
    _rule('add_metadef_namespace', METADEF_ADMIN, 'Create a namespace.',
          '/v2/metadefs/namespaces', 'POST'),
    _rule('modify_metadef_namespace', METADEF_ADMIN, 'Update a namespace.', _NS, 'PUT'),
    _rule('delete_metadef_namespace', METADEF_ADMIN,
          'Delete a namespace (and everything in it).', _NS, 'DELETE'),

    _rule('get_metadef_objects', METADEF_DEFAULT, 'List the objects of a namespace.',
          _NS + '/objects', 'GET'),
    _rule('get_metadef_object', METADEF_DEFAULT, 'Show an object.',
          _NS + '/objects/{object_name}', 'GET'),
    _rule('add_metadef_object', METADEF_ADMIN, 'Create an object.', _NS + '/objects', 'POST'),
    _rule('modify_metadef_object', METADEF_ADMIN, 'Update an object.',
          _NS + '/objects/{object_name}', 'PUT'),
    _rule('delete_metadef_object', METADEF_ADMIN, 'Delete an object.',
          _NS + '/objects/{object_name}', 'DELETE'),
    _rule('delete_metadef_objects', METADEF_ADMIN, 'Delete every object of a namespace.',
          _NS + '/objects', 'DELETE'),

    _rule('get_metadef_properties', METADEF_DEFAULT, 'List the properties of a namespace.',
          _NS + '/properties', 'GET'),
    _rule('get_metadef_property', METADEF_DEFAULT, 'Show a property.',
          _NS + '/properties/{property_name}', 'GET'),
    _rule('add_metadef_property', METADEF_ADMIN, 'Create a property.',
          _NS + '/properties', 'POST'),
    _rule('modify_metadef_property', METADEF_ADMIN, 'Update a property.',
          _NS + '/properties/{property_name}', 'PUT'),
    _rule('remove_metadef_property', METADEF_ADMIN, 'Delete a property.',
          _NS + '/properties/{property_name}', 'DELETE'),
    _rule('remove_metadef_properties', METADEF_ADMIN,
          'Delete every property of a namespace.', _NS + '/properties', 'DELETE'),

    _rule('get_metadef_tags', METADEF_DEFAULT, 'List the tags of a namespace.',
          _NS + '/tags', 'GET'),
    _rule('get_metadef_tag', METADEF_DEFAULT, 'Show a tag.', _NS + '/tags/{tag_name}', 'GET'),
    _rule('add_metadef_tag', METADEF_ADMIN, 'Create a tag.', _NS + '/tags/{tag_name}', 'POST'),
    _rule('add_metadef_tags', METADEF_ADMIN,
          'Create several tags at once (replacing the namespace\'s tags unless the '
          'X-Openstack-Append header is true).', _NS + '/tags', 'POST'),
    _rule('modify_metadef_tag', METADEF_ADMIN, 'Rename a tag.', _NS + '/tags/{tag_name}',
          'PUT'),
    _rule('delete_metadef_tag', METADEF_ADMIN, 'Delete a tag.', _NS + '/tags/{tag_name}',
          'DELETE'),
    _rule('delete_metadef_tags', METADEF_ADMIN, 'Delete every tag of a namespace.',
          _NS + '/tags', 'DELETE'),

    _rule('list_metadef_resource_types', METADEF_DEFAULT, 'List resource types.',
          '/v2/metadefs/resource_types', 'GET'),
    _rule('get_metadef_resource_type', METADEF_DEFAULT,
          'List the resource types a namespace is associated with.',
          _NS + '/resource_types', 'GET'),
    _rule('add_metadef_resource_type_association', METADEF_ADMIN,
          'Associate a resource type with a namespace.', _NS + '/resource_types', 'POST'),
    _rule('remove_metadef_resource_type_association', METADEF_ADMIN,
          'Remove the association of a resource type with a namespace.',
          _NS + '/resource_types/{name}', 'DELETE'),
]


def list_rules():
    return rules
