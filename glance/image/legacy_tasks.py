"""The legacy task API's ``import`` type (``POST /v2/tasks``), as upstream.

``{"type": "import", "input": {"import_from": <http(s) URL>, "import_from_format":
<disk format>, "image_properties": {"disk_format": ..., "container_format": ..., ...}}}``
creates an image with ``image_properties`` and imports the URL's data into it, exactly as
a web-download import (glance.image.imports: the SSRF rules, inspection, hashes, piece
hashes, the lock). The task's result is ``{"image_id": ...}``. If it fails, the image it
created is deleted.
"""

import uuid

from oslo_log import log as logging

from glance.common import exception
from glance.common import notifier
from glance.db import api as db_api
from glance.image import data
from glance.image import import_plugins
from glance.image import imports
from glance.image import locations
from glance.image import service
from glance.image import staging
from glance.image import task_runner
from glance.image import web_fetch
from glance.store import backend

LOG = logging.getLogger(__name__)

TASK_TYPE = 'import'


def parse_input(task_input):
    if not isinstance(task_input, dict):
        raise exception.BadRequest('Task input must be a JSON object.')
    for name in ('import_from', 'import_from_format', 'image_properties'):
        if name not in task_input:
            raise exception.BadRequest('Input does not contain \'%s\' field.' % name)
    url, props = task_input['import_from'], task_input['image_properties']
    if not isinstance(url, str) or not isinstance(props, dict):
        raise exception.BadRequest('import_from must be a URL and image_properties an '
                                   'object.')
    for name in ('disk_format', 'container_format'):
        if not props.get(name):
            raise exception.BadRequest('image_properties must set %s.' % name)
    web_fetch.check_url(url)
    return url, props


def create(context, task_input, image_validator):
    """Record an ``import`` task and start it; ``image_validator`` checks image_properties."""
    url, props = parse_input(task_input)
    image_validator(props)
    task = db_api.task_create({
        'id': str(uuid.uuid4()), 'type': TASK_TYPE, 'status': 'pending',
        'owner': context.project_id, 'request_id': context.request_id,
        'user_id': context.user_id, 'input': task_input, 'message': ''})
    notifier.task_event(context, 'task.create', task)

    def work(task, progress):
        return _run(context, task, url, props, progress)
    task_runner.start(task, work, abandon, data.holder_id())
    return task


def _run(context, task, url, props, progress):
    image = service.create(context, dict(props))
    store = backend.default_backend()
    db_api.task_update(task['id'], {'image_id': image['id']}, from_status='processing')
    task = dict(task, image_id=image['id'], input={
        'image_id': image['id'], 'backend': [store], 'disk_format': image['disk_format'],
        'inject': import_plugins.properties_to_inject(context.roles),
        'import_req': {'method': {'name': 'web-download', 'uri': url}}})
    image = db_api.image_get(image['id'])
    imports._take_lock(image, task['id'], {imports.IMPORTING: store, imports.FAILED: ''},
                       {'status': 'importing'})
    result = imports.run(task, progress)
    return {'image_id': result['image_id']}


def abandon(task, message):
    """Undo a failed import task: its image (if it got one) and its data are deleted."""
    image_id = task.get('image_id')
    if not image_id:
        return
    staging.remove(image_id)
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        return
    if not image['locations']:
        imports._clean_quietly(image_id, backend.default_backend())
    deleted = db_api.image_destroy(image_id)
    if image['locations']:
        locations.delete_data(image)
    LOG.warning('Import task %s failed (%s): its image %s was deleted', task['id'], message,
                deleted['id'])
