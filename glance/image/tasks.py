"""Tasks as callers see them: show, list, and the tasks of one image, with their policy.

The ``/v2/tasks`` API is for operators by default (``tasks_api_access``), as upstream;
``get_task`` / ``get_tasks`` then limit a non-admin to its own project's tasks, and a task
of another project answers 404, never 403. The tasks of one image
(``/v2/images/{id}/tasks``) follow the image's visibility instead.
"""

from glance.common import exception
from glance.db import api as db_api
from glance.image import service
from glance import policy

SORT_KEYS = ('created_at', 'updated_at', 'id', 'type', 'status', 'expires_at')
TYPES = ('import', 'api_image_import')
STATUSES = ('pending', 'processing', 'success', 'failure')


def _target(owner):
    return {'project_id': owner, 'owner': owner}


def check_api(context):
    policy.enforce(context, 'tasks_api_access', _target(context.project_id))


def get(context, task_id):
    check_api(context)
    task = db_api.task_get(task_id)
    if not context.is_admin and task['owner'] != context.project_id:
        raise exception.TaskNotFound(task_id=task_id)
    policy.enforce(context, 'get_task', _target(task['owner']))
    return task


def list_tasks(context, filters=None, marker=None, limit=None, sort_key='created_at',
               sort_dir='desc'):
    check_api(context)
    policy.enforce(context, 'get_tasks', _target(context.project_id))
    owner = None if context.is_admin else context.project_id
    if marker is not None:
        get(context, marker)  # an invisible marker is a missing one
    return db_api.task_get_all(owner=owner, filters=filters, marker=marker, limit=limit,
                               sort_key=sort_key, sort_dir=sort_dir)


def list_for_image(context, image_id):
    """The tasks that worked on an image, newest first.

    The caller's own, or all of them for an admin.
    """
    _image, image_policy = service.get_for(context, image_id)
    image_policy.get()
    image_policy.tasks()
    owner = None if context.is_admin else context.project_id
    return db_api.task_get_all(owner=owner, filters={'image_id': image_id})
