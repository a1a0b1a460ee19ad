"""Who may see and change the metadata definitions catalog: the 404-before-403 rule.

A namespace is visible to an admin, to every project when public, and to its owner's
project when private. Every action on an existing namespace (and on what is in it) goes
through ``NamespacePolicy``: an invisible namespace raises MetadefNamespaceNotFound (404)
before any rule is checked, so a 403 is only ever given about a namespace the caller can
already see.
"""

from glance.common import exception
from glance import policy


def is_visible(context, namespace):
    """True if the caller may see ``namespace`` (a db namespace dict)."""
    if context.is_admin or namespace['visibility'] == 'public':
        return True
    return namespace['owner'] is not None and namespace['owner'] == context.project_id


class NamespacePolicy:
    def __init__(self, context, namespace):
        if not is_visible(context, namespace):
            raise exception.MetadefNamespaceNotFound(namespace=namespace['namespace'])
        self.context = context
        self.namespace = namespace
        self.target = {'project_id': namespace['owner'], 'owner': namespace['owner'],
                       'visibility': namespace['visibility']}

    def enforce(self, rule):
        if not policy.check(self.context, rule, self.target):
            # Who may not even read the namespace learns nothing about it.
            if not policy.check(self.context, 'get_metadef_namespace', self.target):
                raise exception.MetadefNamespaceNotFound(namespace=self.namespace['namespace'])
            raise exception.Forbidden('Policy does not allow %s on namespace %s.'
                                      % (rule, self.namespace['namespace']))


def enforce_global(context, rule, owner=None):
    """A rule about no existing namespace (list, create): 403 when it denies."""
    target = {'project_id': owner or context.project_id, 'owner': owner or context.project_id}
    policy.enforce(context, rule, target)
