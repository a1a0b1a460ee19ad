"""Default rules for the cache management API: operators only."""

from oslo_policy import policy

from glance.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name='cache_list', check_str=base.ADMIN, scope_types=['project'],
        description='List the images cached and queued on every glance-stream node.',
        operations=[{'path': '/v2/cache', 'method': 'GET'},
                    {'path': '/v2/cache/metrics', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='cache_image', check_str=base.ADMIN, scope_types=['project'],
        description='Queue an image for caching on the node that owns it.',
        operations=[{'path': '/v2/cache/{image_id}', 'method': 'PUT'}]),
    policy.DocumentedRuleDefault(
        name='cache_delete', check_str=base.ADMIN, scope_types=['project'],
        description='Evict an image from every node\'s cache.',
        operations=[{'path': '/v2/cache/{image_id}', 'method': 'DELETE'}]),
    policy.DocumentedRuleDefault(
        name='cache_clear', check_str=base.ADMIN, scope_types=['project'],
        description='Clear the caches or queues of every node, or prune them to size.',
        operations=[{'path': '/v2/cache', 'method': 'DELETE'},
                    {'path': '/v2/cache/prune', 'method': 'POST'}]),
]


def list_rules():
    return rules
