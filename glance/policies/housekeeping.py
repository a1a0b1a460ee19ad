"""Default rule for the housekeeping's counters: operators only."""

from oslo_policy import policy

from glance.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='housekeeping_metrics', check_str=base.ADMIN, scope_types=['project'],
        description='Read the deployment-wide counters of the scrubber, crash recovery and '
                    'the audit, and which host holds the scrubber lease.',
        operations=[{'path': '/v2/housekeeping/metrics', 'method': 'GET'}]),
]


def list_rules():
    return rules
