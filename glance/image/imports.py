"""Interoperable image import: ``POST /v2/images/{id}/import``, run as a task.

The methods, as upstream:

* ``glance-direct``: the data staged with ``PUT /v2/images/{id}/stage`` (glance.image.staging)
  goes into the store(s);
* ``web-download``: glance-api fetches ``method.uri`` (glance.image.web_fetch, the SSRF
  rules) into the staging area, then on as glance-direct;
* ``copy-image``: an active image's data is copied into more stores;
* ``glance-download``: an image of another region's glance, found through the caller's
  service catalog (glance.image.glance_download), into the staging area, then on as
  glance-direct.

glance-direct and web-download data then goes through the enabled import plugins
(glance.image.import_plugins: decompression, conversion, metadata injection).

An import takes the image's import lock, the property ``os_glance_import_task`` (the task's
id), with a compare-and-set: a second import of the same image while one runs is 409. It
shows the stores still to do in ``os_glance_importing_to_stores`` and those that failed in
``os_glance_failed_import``. glance-direct and web-download move the image to ``importing``.

Every store is written through glance.image.data's write path: MD5, the multihash and the
piece hashes are computed and the format inspected (glance.image.inspection) on the way, so
glance-stream verifies imported data as it verifies uploaded data. All the stores are
written before the image changes: with ``all_stores_must_succeed`` (the default) a failure
in any store deletes what the import wrote and the image goes back to ``queued`` (or stays
``active`` for copy-image); without it, the stores that worked are kept and the others
listed in ``os_glance_failed_import``.

The task runs in the worker that accepted the request (glance.image.task_runner); if that
worker dies, housekeeping fails the task and ``abandon`` undoes the import the same way.
"""

import uuid

from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import notifier
from glance.db import api as db_api
from glance.image import data
from glance.image import glance_download
from glance.image import import_plugins
from glance.image import inspection
from glance.image import keystone_limits
from glance.image import service
from glance.image import staging
from glance.image import task_runner
from glance.image import web_fetch
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

METHODS = ('glance-direct', 'web-download', 'copy-image', 'glance-download')

import_opts = [
    cfg.ListOpt('enabled_import_methods',
                default=['glance-direct', 'web-download', 'copy-image'],
                help='Import methods this deployment offers (glance-direct, web-download, '
                     'copy-image, glance-download), advertised by GET /v2/info/import and '
                     'the OpenStack-image-import-methods header.'),
]
CONF.register_opts(import_opts)

TASK_TYPE = 'api_image_import'
LOCK = 'os_glance_import_task'
IMPORTING = 'os_glance_importing_to_stores'
FAILED = 'os_glance_failed_import'
_FINISHED = ('success', 'failure')


def enabled_methods():
    return [m for m in CONF.enabled_import_methods if m in METHODS]


def import_info():
    """The ``GET /v2/info/import`` body, as upstream."""
    return {'import-methods': {'description': 'Import methods available.',
                               'type': 'array', 'value': enabled_methods()}}


def _bool(body, name, default):
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise exception.BadRequest('%s must be true or false.' % name)
    return value


def parse_request(body):
    """The import request's method, stores and flags (BadRequest if malformed)."""
    if not isinstance(body, dict):
        raise exception.BadRequest('The request body must be a JSON object.')
    method = body.get('method')
    if not isinstance(method, dict) or not isinstance(method.get('name'), str):
        raise exception.BadRequest('The request body needs "method": {"name": ...}.')
    name = method['name']
    if name not in enabled_methods():
        raise exception.BadRequest('Import method %s is not supported here; available: %s.'
                                   % (name[:64], ', '.join(enabled_methods()) or 'none'))
    uri = method.get('uri')
    if name == 'web-download':
        if not isinstance(uri, str) or not uri:
            raise exception.BadRequest('web-download needs "method": {"uri": ...}.')
        web_fetch.check_url(uri)
    if name == 'glance-download':
        glance_download.parse(method)
    stores = body.get('stores')
    if stores is not None and (not isinstance(stores, list)
                               or not all(isinstance(s, str) for s in stores)):
        raise exception.BadRequest('"stores" must be a list of store ids.')
    all_stores = _bool(body, 'all_stores', False)
    if all_stores and stores:
        raise exception.BadRequest('Give either "stores" or "all_stores", not both.')
    return {'method': name, 'uri': uri, 'stores': stores, 'all_stores': all_stores,
            'all_stores_must_succeed': _bool(body, 'all_stores_must_succeed', True)}


def _image_stores(image):
    return [loc['metadata'].get('store') for loc in image['locations']]


def _target_stores(request, image, stores_header):
    """The stores to import into, checked (BadRequest / Conflict)."""
    held = _image_stores(image)
    if request['all_stores']:
        stores = [s for s in CONF.enabled_backends
                  if s not in held and not backend.read_only(s)]
    elif request['stores']:
        stores = list(dict.fromkeys(request['stores']))
    elif stores_header:
        stores = [stores_header]
    elif request['method'] == 'copy-image':
        raise exception.BadRequest('copy-image needs "stores" or "all_stores".')
    else:
        stores = [backend.default_backend()]
    for store in stores:
        if store not in CONF.enabled_backends:  # 409 here, as upstream's import answers
            raise exception.Conflict('Store %s is not available here; see GET '
                                     '/v2/info/stores.' % store[:64])
        if store in held:
            raise exception.Conflict('Image %s already has data in store %s.'
                                     % (image['id'], store))
        if backend.read_only(store):
            raise exception.Conflict('Store %s is read-only: its images are registered by '
                                     'location.' % store)
    if not stores:
        raise exception.Conflict('Image %s already has data in every store.' % image['id'])
    return stores


def _check_status(request, image):
    method, status = request['method'], image['status']
    wanted = {'glance-direct': 'uploading', 'web-download': 'queued',
              'copy-image': 'active', 'glance-download': 'queued'}[method]
    if status != wanted:
        if method == 'glance-direct' and status == 'queued':
            raise exception.Conflict('Image %s has no staged data: stage it first '
                                     '(PUT /v2/images/%s/stage).' % (image['id'], image['id']))
        raise exception.Conflict('Image %s is %s; %s imports into a %s image.'
                                 % (image['id'], status, method, wanted))
    if method == 'glance-direct' and not staging.exists(image['id']):
        raise exception.Conflict('The staged data of image %s is not on this glance-api '
                                 'host (or is being written).' % image['id'])
    if method != 'copy-image' and (not image['disk_format'] or not image['container_format']):
        raise exception.BadRequest('Properties container_format, disk_format must be set '
                                   'prior to importing data.')
    if method == 'glance-direct' and image.get('upload_holder'):
        raise exception.Conflict('Image %s is still being staged.' % image['id'])


def _check_lock(image):
    """The task holding the image's import lock, if it may be taken over.

    It may when it ended, or is gone; Conflict if that task still runs.
    """
    holder = image['properties'].get(LOCK)
    if holder:
        try:
            holding = db_api.task_get(holder)
        except exception.TaskNotFound:
            holding = None
        if holding is not None and holding['status'] not in _FINISHED:
            raise exception.Conflict('Image %s is being imported by task %s.'
                                     % (image['id'], holder))
    return holder


def _take_lock(image, task_id, changes, status_change):
    """Take the import lock (compare-and-set); a lock whose task ended may be taken over."""
    holder = _check_lock(image)
    changes = dict(changes, **{LOCK: task_id})
    return db_api.image_change_properties(
        image['id'], changes, values=status_change, from_state=image['status'],
        expect={LOCK: holder or None})


def import_image(context, image_id, body, stores_header=None):
    """Start an import (202): check, record the task, take the lock, run it."""
    request = parse_request(body)
    image, policy = service.get_for(context, image_id)
    policy.import_data()
    if request['method'] == 'copy-image':
        policy.copy()
    _check_lock(image)  # before a task is recorded; taking it below is the real test
    _check_status(request, image)
    stores = _target_stores(request, image, stores_header)
    if keystone_limits.enabled():
        # 413 over, 503 unreadable
        keystone_limits.enforce_import(context, image['owner'], image, request['method'])
    remote = None
    if request['method'] == 'glance-download':
        _image_id, region, interface = glance_download.parse(body['method'])
        remote = glance_download.Remote(
            glance_download.endpoint(getattr(context, 'service_catalog', None), region,
                                     interface), context.auth_token)
    task = db_api.task_create({
        'id': str(uuid.uuid4()), 'type': TASK_TYPE, 'status': 'pending',
        'owner': context.project_id or image['owner'], 'image_id': image_id,
        'request_id': context.request_id, 'user_id': context.user_id,
        'input': {'image_id': image_id, 'import_req': body, 'backend': stores,
                  'disk_format': image['disk_format'],
                  'container_format': image['container_format'],
                  'inject': import_plugins.properties_to_inject(context.roles)},
        'message': ''})
    notifier.task_event(context, 'task.create', task)
    status_change = None if request['method'] == 'copy-image' else {'status': 'importing'}
    try:
        _take_lock(image, task['id'], {IMPORTING: ','.join(stores), FAILED: ''},
                   status_change)
    except exception.Conflict as e:
        task_runner.finish(task['id'], 'failure', message=str(e))
        raise
    except BaseException:
        task_runner.finish(task['id'], 'failure', message='The import could not start.')
        raise
    LOG.info('Image %s: %s import into %s as task %s', image_id, request['method'],
             ', '.join(stores), task['id'])

    def work(task, progress):
        return run(task, progress, remote=remote)  # the token stays in this worker
    task_runner.start(task, work, abandon, data.holder_id())
    return task


def _request_of(task):
    req = task['input']['import_req']
    method = req['method']
    return {'method': method['name'], 'uri': method.get('uri'),
            'stores': task['input']['backend'],
            'must_succeed': req.get('all_stores_must_succeed', True)}


def _fetch(image, uri, progress):
    """web-download: the URL's data into the staging area, inspected and size-capped."""
    limit, limit_error = data._limit(None, image['owner'], None, in_transit=True)
    progress.note('Downloading %s' % web_fetch._safe(uri))
    response = web_fetch.open_url(uri)

    def counted(chunks):
        for chunk in chunks:
            progress.add(len(chunk))
            yield chunk
    try:
        written, _format, _virtual = staging.write(
            image['id'], counted(response.chunks(limit, limit_error)), image['disk_format'])
    finally:
        response.close()
    progress.done = 0
    return written


def _download(image, method, remote, progress):
    """glance-download: the remote image's formats and properties, then its data."""
    if remote is None:
        raise exception.BadRequest('glance-download cannot continue without the caller\'s '
                                   'token.')
    remote_id = method['glance_image_id']
    progress.note('Reading image %s in region %s' % (remote_id, method['glance_region']))
    found = remote.image(remote_id)
    values = {name: found[name] for name in ('disk_format', 'container_format')
              if found.get(name)}
    image = db_api.image_change_properties(
        image['id'], glance_download.properties_to_copy(found), values=values,
        expect={LOCK: _lock_of(image)})
    limit, limit_error = data._limit(None, image['owner'], None, in_transit=True)
    progress.note('Downloading image %s from region %s' % (remote_id, method['glance_region']))

    def counted(chunks):
        for chunk in chunks:
            progress.add(len(chunk))
            yield chunk
    staging.write(image['id'], counted(remote.chunks(remote_id, limit, limit_error)),
                  image['disk_format'])
    progress.done = 0
    return image


def _lock_of(image):
    return image['properties'].get(LOCK)


def _source(image, method):
    """(chunks factory, size) of the data to import."""
    if method == 'copy-image':
        location = image['locations'][0]

        def chunks():
            iterator, _size = backend.get(location)
            for chunk in iterator:
                yield chunk
        return chunks, image['size']
    return (lambda: staging.read(image['id'])), staging.size(image['id'])


def _write_store(image, store, chunks, size, progress):
    """One store's copy: (location, hashes, piece map, virtual size); raises on failure."""
    progress.note('Importing %d bytes into store %s' % (size, store))

    def counted():
        for chunk in chunks():
            progress.add(len(chunk))
            yield chunk
    try:
        (url, written, checksum, multihash, metadata), piece_map, inspector = data._store(
            image['id'], counted(), size, store, None, image['disk_format'])
    except store_exc.Duplicate:
        raise exception.Conflict('Image data for %s already exists in store %s.'
                                 % (image['id'], store))
    location = {'url': url, 'metadata': metadata}
    try:
        _format, virtual_size = inspector.finish()
        if written != size:
            raise exception.BadRequest('Store %s took %d of %d bytes.' % (store, written, size))
    except BaseException:
        _delete_quietly(location)
        raise
    return location, checksum, multihash, piece_map, virtual_size


def _delete_quietly(location):
    try:
        backend.delete(location)
    except Exception as e:
        LOG.error('Could not delete data written by a failed import: %s', type(e).__name__)


def _clean_quietly(image_id, store):
    """Partial data of a dead or failed write to ``store``, whatever the store's kind."""
    try:
        data.clean_partial(image_id, store)
    except Exception as e:
        LOG.error('Could not delete the partial data of image %s in store %s: %s',
                  image_id, store, type(e).__name__)


def _store_error(store, error):
    if isinstance(error, exception.GlanceException):
        return str(error)
    if isinstance(error, store_exc.StorageFull):
        return 'store %s is full' % store
    LOG.error('Import into store %s failed: %s', store, error)
    return 'store %s failed (%s)' % (store, type(error).__name__)


def run(task, progress, remote=None):
    """The import task's work (in the worker that accepted it)."""
    request = _request_of(task)
    image_id = task['image_id']
    image = db_api.image_get(image_id)
    if request['method'] == 'web-download':
        _fetch(image, request['uri'], progress)
    elif request['method'] == 'glance-download':
        image = _download(image, task['input']['import_req']['method'], remote, progress)
    if request['method'] != 'copy-image':
        image = import_plugins.run(image, staging.path(image_id),
                                   task['input'].get('inject') or {}, progress)
    chunks, size = _source(image, request['method'])
    done, failed, first = [], [], None
    try:
        for store in request['stores']:
            try:
                written = _write_store(image, store, chunks, size, progress)
            except task_runner.TaskCancelled:
                raise
            except inspection.ImageRefused:
                raise  # the content itself is refused: no store may have it
            except Exception as e:
                if request['must_succeed']:
                    raise exception.BadRequest('Import into store %s failed: %s'
                                               % (store, _store_error(store, e)))
                LOG.warning('Image %s: import into store %s failed: %s', image_id, store,
                            _store_error(store, e))
                failed.append(store)
                _set_progress_props(image_id, task['id'], request['stores'], done, failed)
                continue
            location, checksum, multihash, piece_map, virtual_size = written
            expected = first or (request['method'] == 'copy-image' and image)
            if expected and (checksum, multihash) != (expected['checksum'],
                                                      expected['os_hash_value']):
                _delete_quietly(location)
                raise exception.BadRequest('The data written to store %s does not match '
                                           'the image\'s checksum.' % store)
            if first is None:
                first = {'checksum': checksum, 'os_hash_value': multihash,
                         'piece_map': piece_map, 'virtual_size': virtual_size}
            done.append((store, location))
            progress.done = 0
        if not done:
            raise exception.BadRequest('The import failed in every store: %s.'
                                       % ', '.join(failed))
        stored = _commit(image, task, request, done, failed, first, size)
    except BaseException:
        for _store, location in done:
            _delete_quietly(location)
        raise
    if request['method'] != 'copy-image':
        staging.remove(image_id)
    progress.message = 'Imported into %s' % ', '.join(stored)
    return {'image_id': image_id, 'stores': stored, 'failed_stores': failed}


def _set_progress_props(image_id, task_id, stores, done, failed):
    names = [s for s, _l in done]
    db_api.image_change_properties(
        image_id, {IMPORTING: ','.join(s for s in stores if s not in names + failed),
                   FAILED: ','.join(failed)}, expect={LOCK: task_id})


def _commit(image, task, request, done, failed, first, size):
    """Record the new locations and release the lock.

    Takes over ``done`` (emptied: the caller no longer deletes its data on failure). Once a
    location is recorded its data belongs to the image, so each further location is
    recorded, or its data deleted, on its own.
    """
    image_id = image['id']
    pending = list(done)
    done[:] = []
    failed_before = list(failed)
    props = {IMPORTING: '', FAILED: ','.join(failed), LOCK: None}
    if request['method'] != 'copy-image':
        store, location = pending.pop(0)
        piece_map = first['piece_map']
        try:
            db_api.image_activate(
                image_id, {'size': size, 'checksum': first['checksum'],
                           'virtual_size': first['virtual_size'],
                           'os_hash_algo': CONF.hashing_algorithm,
                           'os_hash_value': first['os_hash_value']},
                location, from_state='importing', properties=props,
                pieces=piece_map.as_values() if piece_map.image_size == size else None)
        except BaseException:
            for _store, written in [(store, location)] + pending:
                _delete_quietly(written)
            raise
    stored = [] if request['method'] == 'copy-image' else [store]
    for store, location in pending:
        try:
            db_api.image_location_add(image_id, location['url'], location['metadata'])
            stored.append(store)
        except Exception as e:
            LOG.error('Image %s: the copy in store %s could not be recorded (%s); it is '
                      'deleted', image_id, store, type(e).__name__)
            _delete_quietly(location)
            failed.append(store)
    if request['method'] == 'copy-image':
        db_api.image_change_properties(image_id, dict(props, **{FAILED: ','.join(failed)}),
                                       expect={LOCK: task['id']})
    elif failed != failed_before:
        db_api.image_change_properties(image_id, {FAILED: ','.join(failed)})
    return stored


def abandon(task, message):
    """Undo an import that failed or whose worker died.

    Deletes what it may have written to its target stores (never data of a location the
    image already has), puts an importing image back to ``queued``, removes the staged data,
    lists the stores in ``os_glance_failed_import`` and releases the lock.
    """
    image_id = task['image_id']
    try:
        image = db_api.image_get(image_id)
    except exception.ImageNotFound:
        staging.remove(image_id)
        return
    stores = (task.get('input') or {}).get('backend') or []
    kept = {loc['metadata'].get('store') for loc in image['locations']}
    for store in stores:
        if store not in kept:  # a committed copy there is the image's: never touched
            _clean_quietly(image_id, store)
    method = (((task.get('input') or {}).get('import_req') or {}).get('method') or {}).get(
        'name')
    if method != 'copy-image':
        staging.remove(image_id)
    props = {IMPORTING: '', FAILED: ','.join(stores), LOCK: None}
    values = None
    if image['status'] == 'importing':
        values = {'status': 'queued', 'size': None, 'upload_holder': None,
                  'upload_heartbeat_at': None}
        for name in ('disk_format', 'container_format'):
            # as declared: image_conversion or glance-download may have changed them
            if name in (task.get('input') or {}):
                values[name] = task['input'][name]
    try:
        db_api.image_change_properties(image_id, props, values=values,
                                       expect={LOCK: task['id']})
    except exception.Conflict:
        LOG.info('Image %s is no longer locked by task %s: left as it is', image_id,
                 task['id'])
    LOG.warning('Import task %s of image %s undone: %s', task['id'], image_id, message)


def cleanups():
    """Task type -> clean-up, for housekeeping (glance.image.task_runner.recover)."""
    from glance.image import legacy_tasks
    return {TASK_TYPE: abandon, legacy_tasks.TASK_TYPE: legacy_tasks.abandon}


def list_opts():
    return [(None, import_opts)]
