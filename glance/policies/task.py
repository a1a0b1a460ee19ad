"""Default rules for tasks, image import and stores (secure RBAC, as upstream's defaults).

Targets: ``project_id`` is the task's owner (for task rules) or the image's owner (for
import rules). The tasks API as a whole is for operators (``tasks_api_access``), as
upstream: users follow their imports through ``/v2/images/{image_id}/tasks``.
"""

from oslo_policy import policy

from glance.policies import base
from glance.policies import image

rules = [
    policy.DocumentedRuleDefault(
        name='tasks_api_access', check_str=base.ADMIN, scope_types=['project'],
        description='Use the /v2/tasks API at all (checked before get_task, get_tasks and '
                    'add_task).',
        operations=[{'path': '/v2/tasks', 'method': 'GET'},
                    {'path': '/v2/tasks', 'method': 'POST'},
                    {'path': '/v2/tasks/{task_id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_task', check_str=base.ADMIN_OR_PROJECT_READER, scope_types=['project'],
        description='Show a task.',
        operations=[{'path': '/v2/tasks/{task_id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_tasks', check_str=base.ADMIN_OR_PROJECT_READER, scope_types=['project'],
        description='List tasks.',
        operations=[{'path': '/v2/tasks', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='add_task', check_str=base.ADMIN_OR_PROJECT_MEMBER, scope_types=['project'],
        description='Create a task (the legacy "import" task type).',
        operations=[{'path': '/v2/tasks', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='get_image_tasks', check_str=image.ADMIN_OR_READER_OF_IMAGE,
        scope_types=['project'], description='List the tasks that worked on an image.',
        operations=[{'path': '/v2/images/{image_id}/tasks', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='stage_image', check_str=base.ADMIN_OR_PROJECT_MEMBER, scope_types=['project'],
        description='Upload image data to the staging area, for a later glance-direct '
                    'import.',
        operations=[{'path': '/v2/images/{image_id}/stage', 'method': 'PUT'}]),
    policy.DocumentedRuleDefault(
        name='import_image', check_str=base.ADMIN_OR_PROJECT_MEMBER, scope_types=['project'],
        description='Import data into an image (glance-direct, web-download, '
                    'glance-download).',
        operations=[{'path': '/v2/images/{image_id}/import', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='copy_image', check_str=base.ADMIN, scope_types=['project'],
        description='Copy an active image\'s data into more stores (the copy-image import '
                    'method).',
        operations=[{'path': '/v2/images/{image_id}/import', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='stores_info_detail', check_str=base.ADMIN, scope_types=['project'],
        description='See every store\'s type, weight and (credential-free) settings.',
        operations=[{'path': '/v2/info/stores/detail', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='delete_image_location', check_str=base.ADMIN, scope_types=['project'],
        description='Delete the copy of an image\'s data in one store (the image keeps its '
                    'other copies), or remove one location of an image with the '
                    '/locations JSON patch (show_multiple_locations); never the last one.',
        operations=[{'path': '/v2/stores/{store_id}/{image_id}', 'method': 'DELETE'},
                    {'path': '/v2/images/{image_id}', 'method': 'PATCH'}]),
    policy.DocumentedRuleDefault(
        name='get_usage', check_str=base.ADMIN_OR_PROJECT_READER, scope_types=['project'],
        description='See the project\'s image quotas and how much of them it uses.',
        operations=[{'path': '/v2/info/usage', 'method': 'GET'}]),
]


def list_rules():
    return rules
