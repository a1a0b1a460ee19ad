"""Rule names shared by the per-resource policy modules (secure-RBAC defaults)."""

from oslo_policy import policy

ADMIN = 'role:admin'
SERVICE = 'role:service'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
PROJECT_READER = 'role:reader and project_id:%(project_id)s'
ADMIN_OR_PROJECT_MEMBER = 'rule:context_is_admin or (%s)' % PROJECT_MEMBER
ADMIN_OR_PROJECT_READER = 'rule:context_is_admin or (%s)' % PROJECT_READER
ADMIN_OR_SERVICE = 'rule:context_is_admin or rule:service_api'

# Used where the image itself decides visibility (public, shared, community images are
# readable by other projects): the service layer checks visibility, the rule checks the role.
ADMIN_OR_READER = 'rule:context_is_admin or role:reader'

rules = [
    policy.RuleDefault(name='context_is_admin', check_str=ADMIN,
                       description='Defines the admin role of the deployment.'),
    policy.RuleDefault(name='service_api', check_str=SERVICE,
                       description='Defines a service user (for example Nova) by its role.'),
    policy.RuleDefault(name='default', check_str='',
                       description='Rule used for actions without a rule of their own.'),
]


def list_rules():
    return rules
