"""Default rules for images (secure RBAC, as upstream Glance's defaults).

Targets: ``project_id`` is the image's owner, ``member_id`` the caller's project when it is
a member of the image, ``visibility`` the image's visibility. Whether the caller may see the
image at all is decided before these rules (glance/image/visibility.py): an invisible image
answers 404 whatever the rule says.
"""

from oslo_policy import policy

from glance.policies import base

_VISIBLE_TO_READER = ("role:reader and (project_id:%(project_id)s or "
                      "project_id:%(member_id)s or 'community':%(visibility)s or "
                      "'public':%(visibility)s or 'shared':%(visibility)s)")
_VISIBLE_TO_MEMBER = ("role:member and (project_id:%(project_id)s or "
                      "project_id:%(member_id)s or 'community':%(visibility)s or "
                      "'public':%(visibility)s or 'shared':%(visibility)s)")

# As upstream: the service user (Nova, Cinder, acting for the image owner with a service
# token) or a member of the image's project.
SERVICE_OR_PROJECT_MEMBER = 'rule:service_api or (%s)' % base.PROJECT_MEMBER

ADMIN_OR_READER_OF_IMAGE = 'rule:context_is_admin or (%s)' % _VISIBLE_TO_READER
ADMIN_OR_MEMBER_OF_IMAGE = 'rule:context_is_admin or (%s)' % _VISIBLE_TO_MEMBER

rules = [
    policy.DocumentedRuleDefault(
        name='add_image', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Create a new image.',
        operations=[{'path': '/v2/images', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='get_image', check_str=ADMIN_OR_READER_OF_IMAGE,
        scope_types=['project'], description='Show an image.',
        operations=[{'path': '/v2/images/{image_id}', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_images', check_str=base.ADMIN_OR_PROJECT_READER,
        scope_types=['project'], description='List images.',
        operations=[{'path': '/v2/images', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='modify_image', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Update an image.',
        operations=[{'path': '/v2/images/{image_id}', 'method': 'PATCH'}]),
    policy.DocumentedRuleDefault(
        name='delete_image', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Delete an image.',
        operations=[{'path': '/v2/images/{image_id}', 'method': 'DELETE'}]),
    policy.DocumentedRuleDefault(
        name='publicize_image', check_str=base.ADMIN,
        scope_types=['project'], description='Make an image public (visible to every project).',
        operations=[{'path': '/v2/images', 'method': 'POST'},
                    {'path': '/v2/images/{image_id}', 'method': 'PATCH'}]),
    policy.DocumentedRuleDefault(
        name='communitize_image', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Make an image a community image (usable by every project, listed only '
                    'on request).',
        operations=[{'path': '/v2/images', 'method': 'POST'},
                    {'path': '/v2/images/{image_id}', 'method': 'PATCH'}]),
    policy.DocumentedRuleDefault(
        name='download_image', check_str=ADMIN_OR_READER_OF_IMAGE,
        scope_types=['project'], description='Download the data of an image.',
        operations=[{'path': '/v2/images/{image_id}/file', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_image_direct_link', check_str=base.ADMIN_OR_SERVICE,
        scope_types=['project'],
        description='Get a read-only, expiring link to the image data in its backend (Swift '
                    'TempURL, S3 presigned GET, file or rbd location), to fetch it without '
                    'going through Glance. The caller must also be able to see the image.',
        operations=[{'path': '/v2/images/{image_id}/direct-link', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='get_image_location', check_str=base.ADMIN_OR_SERVICE,
        scope_types=['project'],
        description='See the "direct_url" and "locations" fields of an image (shown only '
                    'with show_image_direct_url / show_multiple_locations; credentials are '
                    'always removed).',
        operations=[{'path': '/v2/images/{image_id}', 'method': 'GET'},
                    {'path': '/v2/images', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='set_image_location', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Add a location to an image, or change the metadata of its locations, '
                    'with the /locations JSON patch (only with show_multiple_locations). The '
                    'URL must name an object of a configured store.',
        operations=[{'path': '/v2/images/{image_id}', 'method': 'PATCH'}]),
    policy.DocumentedRuleDefault(
        name='add_image_location', check_str=SERVICE_OR_PROJECT_MEMBER,
        scope_types=['project'],
        description='Register the data of a queued image by location (API 2.17), as Nova '
                    'and Cinder do on Ceph. The URL must name an object of a configured '
                    'store that holds no other image\'s data.',
        operations=[{'path': '/v2/images/{image_id}/locations', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='fetch_image_location', check_str=base.SERVICE,
        scope_types=['project'],
        description='List the locations of an image (API 2.17; credentials removed).',
        operations=[{'path': '/v2/images/{image_id}/locations', 'method': 'GET'}]),
    policy.DocumentedRuleDefault(
        name='upload_image', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Upload the data of an image.',
        operations=[{'path': '/v2/images/{image_id}/file', 'method': 'PUT'}]),
    policy.DocumentedRuleDefault(
        name='deactivate', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Deactivate an image.',
        operations=[{'path': '/v2/images/{image_id}/actions/deactivate', 'method': 'POST'}]),
    policy.DocumentedRuleDefault(
        name='reactivate', check_str=base.ADMIN_OR_PROJECT_MEMBER,
        scope_types=['project'], description='Reactivate an image.',
        operations=[{'path': '/v2/images/{image_id}/actions/reactivate', 'method': 'POST'}]),
]


def list_rules():
    return rules
