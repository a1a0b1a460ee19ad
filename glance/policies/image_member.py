"""Default rules for image members (secure RBAC, as upstream Glance's defaults).

Targets: ``project_id`` is the image's owner, ``member_id`` the member the call is about.
Owners share and unshare; a member, and only it, accepts or rejects.
"""

from oslo_policy import policy

from glance.policies import base

_OWNER_OR_MEMBER_READER = ('rule:context_is_admin or (role:reader and '
                           '(project_id:%(project_id)s or project_id:%(member_id)s))')
_MEMBER_ITSELF = 'rule:context_is_admin or (role:member and project_id:%(member_id)s)'

rules = [
    policy.DocumentedRuleDefault(
        name='add_member', check_str=base.ADMIN_OR_PROJECT_MEMBER, scope_types=['project'],
        description='Share an image with a project.',
        operations=[{'path': '/v2/images/{image_id}/members', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='delete_member', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Stop sharing an image with a project.',
        operations=[{'path': '/v2/images/{image_id}/members/{member_id}',
                     'method': 'DELETE'}]),
    policy.DocumentedRuleDefault(
        name='get_member', check_str=_OWNER_OR_MEMBER_READER, scope_types=['project'],
        description='Show a member of an image.',
        operations=[{'path': '/v2/images/{image_id}/members/{member_id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_members', check_str=_OWNER_OR_MEMBER_READER, scope_types=['project'],
        description='List the members of an image.',
        operations=[{'path': '/v2/images/{image_id}/members', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='modify_member', check_str=_MEMBER_ITSELF, scope_types=['project'],
        description='Accept or reject an image shared with your project.',
        operations=[{'path': '/v2/images/{image_id}/members/{member_id}', 'method': 'PUT'}]),
]


def list_rules():
    return rules
