"""The task JSON schemas (``/v2/schemas/task``, ``/v2/schemas/tasks``), shaped as upstream's."""

from glance.api.v2 import image_schema
from glance.image import tasks

_TASK_PROPERTIES = {
    'id': {'type': 'string', 'pattern': image_schema.UUID_PATTERN,
           'description': 'An identifier for the task'},
    'type': {'type': 'string', 'enum': list(tasks.TYPES),
             'description': 'The type of task represented by this content'},
    'status': {'type': 'string', 'enum': list(tasks.STATUSES),
               'description': 'The current status of this task'},
    'input': {'type': ['null', 'object'],
              'description': 'The parameters required by task, JSON blob'},
    'result': {'type': ['null', 'object'],
               'description': 'The result of current task, JSON blob'},
    'owner': {'type': 'string', 'description': 'An identifier for the owner of this task'},
    'message': {'type': 'string',
                'description': 'Human-readable informative message only included when '
                               'appropriate (usually on failure, or how far a running '
                               'task got)'},
    'image_id': {'type': ['null', 'string'],
                 'description': 'Image associated with the task'},
    'request_id': {'type': ['null', 'string'],
                   'description': 'Request ID associated with the task'},
    'user_id': {'type': ['null', 'string'],
                'description': 'User associated with the task'},
    'expires_at': {'type': ['null', 'string'],
                   'description': 'Datetime when this resource would be subject to removal'},
    'created_at': {'type': 'string',
                   'description': 'Datetime when this resource was created'},
    'updated_at': {'type': 'string',
                   'description': 'Datetime when this resource was updated'},
    'self': {'type': 'string'},
    'schema': {'type': 'string'},
}


def get_schema():
    return {
        'name': 'task',
        'properties': dict(_TASK_PROPERTIES),
        'links': [{'rel': 'self', 'href': '{self}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }


def get_collection_schema():
    return {
        'name': 'tasks',
        'properties': {
            'tasks': {'type': 'array', 'items': get_schema()},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': [{'rel': 'first', 'href': '{first}'},
                  {'rel': 'next', 'href': '{next}'},
                  {'rel': 'describedby', 'href': '{schema}'}],
    }
