"""``/v2/tasks``, ``/v2/tasks/{id}`` and ``/v2/images/{id}/tasks``.

Tasks are created by image imports (glance.image.imports) and by the legacy ``POST
/v2/tasks`` of type ``import`` (glance.image.legacy_tasks); this module parses, calls the
task service (glance.image.tasks) and shows tasks as upstream does: a list shows stubs
(without input, result and message), a task and an image's tasks show everything.
"""

import urllib.parse

from oslo_config import cfg

from glance.api import resource
from glance.api.v2 import image_schema
from glance.common import exception
from glance.image import legacy_tasks
from glance.image import tasks

CONF = cfg.CONF

_STUB_FIELDS = ('id', 'type', 'status', 'owner', 'expires_at', 'created_at', 'updated_at',
                'self', 'schema')


def _time(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value is not None else None


def show(task):
    """A task as the API shows it."""
    return {
        'id': task['id'], 'type': task['type'], 'status': task['status'],
        'owner': task['owner'], 'input': task['input'], 'result': task['result'],
        'message': task['message'] or '', 'image_id': task['image_id'],
        'request_id': task['request_id'], 'user_id': task['user_id'],
        'expires_at': _time(task['expires_at']),
        'created_at': _time(task['created_at']),
        'updated_at': _time(task['updated_at'] or task['created_at']),
        'self': '/v2/tasks/%s' % task['id'], 'schema': '/v2/schemas/task',
    }


def stub(task):
    full = show(task)
    return {name: full[name] for name in _STUB_FIELDS}


class Controller:

    def index(self, req, **params):
        return {'tasks': tasks.list_tasks(req.context, **params), 'params': params}

    def show(self, req, task_id):
        return tasks.get(req.context, task_id)

    def create(self, req, body):
        tasks.check_api(req.context)
        from glance import policy
        policy.enforce(req.context, 'add_task', {'project_id': req.context.project_id,
                                                 'owner': req.context.project_id})
        return legacy_tasks.create(req.context, body['input'], _validate_image_properties)

    def image_tasks(self, req, image_id):
        return tasks.list_for_image(req.context, image_id)


def _validate_image_properties(props):
    for name in props:
        image_schema.check_property_name(name)
    image_schema.validate(props)


class RequestDeserializer:

    def create(self, req):
        body = resource.json_body(req)
        if not isinstance(body, dict):
            raise exception.BadRequest('The request body must be a JSON object.')
        unknown = set(body) - {'type', 'input'}
        if unknown:
            raise exception.BadRequest('Unknown task attribute(s): %s.'
                                       % ', '.join(sorted(unknown))[:200])
        if body.get('type') != legacy_tasks.TASK_TYPE:
            raise exception.BadRequest('Task type must be "import", not %s.'
                                       % str(body.get('type'))[:64])
        if not isinstance(body.get('input'), dict):
            raise exception.BadRequest('Task input must be a JSON object.')
        return {'body': body}

    def index(self, req):
        params = {}
        filters = {}
        for name, value in req.params.items():
            if name == 'limit':
                try:
                    limit = int(value)
                except ValueError:
                    raise exception.BadRequest('limit must be an integer.')
                if limit < 0:
                    raise exception.BadRequest('limit must be >= 0.')
                params['limit'] = min(limit, CONF.api.limit_param_max)
            elif name == 'marker':
                params['marker'] = value
            elif name == 'sort_key':
                if value not in tasks.SORT_KEYS:
                    raise exception.InvalidSortKey(key=value[:64])
                params['sort_key'] = value
            elif name == 'sort_dir':
                if value not in ('asc', 'desc'):
                    raise exception.BadRequest('sort_dir must be asc or desc.')
                params['sort_dir'] = value
            elif name == 'type':
                if value not in tasks.TYPES:
                    raise exception.BadRequest('Invalid task type: %s.' % value[:64])
                filters['type'] = value
            elif name == 'status':
                if value not in tasks.STATUSES:
                    raise exception.BadRequest('Invalid task status: %s.' % value[:64])
                filters['status'] = value
            else:
                raise exception.BadRequest('Unknown parameter: %s.' % name[:64])
        params.setdefault('limit', CONF.database.image_list_default_page_size)
        params['filters'] = filters
        return params


class ResponseSerializer:

    def index(self, resp, result):
        query = [(k, v) for k, v in resp.request.params.items() if k != 'marker']
        items = result['tasks']
        body = {'tasks': [stub(t) for t in items],
                'first': '/v2/tasks' + ('?' + urllib.parse.urlencode(query) if query else ''),
                'schema': '/v2/schemas/tasks'}
        if items and len(items) == result['params'].get('limit'):
            body['next'] = '/v2/tasks?' + urllib.parse.urlencode(
                query + [('marker', items[-1]['id'])])
        resource.json_response(resp, body)

    def show(self, resp, task):
        resource.json_response(resp, show(task))

    def create(self, resp, task):
        resource.json_response(resp, show(task), status=201)
        resp.location = '/v2/tasks/%s' % task['id']

    def image_tasks(self, resp, items):
        resource.json_response(resp, {'tasks': [show(t) for t in items]})


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer(), ResponseSerializer())
