"""The staging area: image data waiting to be imported (``PUT /v2/images/{id}/stage``).

Staged data is a plain file ``<[os_glance_staging_store] filesystem_store_datadir>/<image
id>`` on the glance-api host, as upstream's staging store. It is written streaming, with
the size cap and the storage quota of an upload, and inspected on the way
(glance.image.inspection): content that fails the safety checks, or is not what
``disk_format`` says, is refused (400) and removed, and the image goes back to ``queued``.

Staging moves the image queued -> uploading. While the data is being written the image
records its writer (``upload_holder``) and heartbeat as an upload does, so housekeeping puts
a stage whose process died back to ``queued`` and removes the partial file. A web-download
import writes its fetched data here too, through ``write``.
"""

import itertools
import os
import time

from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception
from glance.common import native
from glance.db import api as db_api
from glance.image import data
from glance.image import import_plugins
from glance.image import inspection
from glance.image import service
from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

staging_opts = [
    cfg.StrOpt('filesystem_store_datadir', default='$state_path/staging',
               help='Directory where staged image data (image-stage, and web-download while '
                    'it fetches) waits to be imported. It must be on the host of the '
                    'glance-api that imports it (or shared by every glance-api host), '
                    'writable by glance-api, and large enough for the imports in progress.'),
]
CONF.register_opts(staging_opts, group='os_glance_staging_store')

_CHUNK = units.Mi


def path(image_id):
    return os.path.join(CONF.os_glance_staging_store.filesystem_store_datadir, image_id)


def remove(image_id):
    """Delete the staged data of an image, if any."""
    try:
        os.unlink(path(image_id))
        return True
    except FileNotFoundError:
        return False
    except OSError as e:
        LOG.error('Could not remove the staged data of image %s: %s', image_id, e)
        return False


def staged_images():
    """(image id, path, age in seconds) of every file in the staging area."""
    directory = CONF.os_glance_staging_store.filesystem_store_datadir
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = []
    now = time.time()
    for name in names:
        full = os.path.join(directory, name)
        try:
            age = now - os.stat(full).st_mtime
        except FileNotFoundError:
            continue
        found.append((name[:36], full, age))  # <id>, or <id>.converted/.decompressed
    return found


def exists(image_id):
    return os.path.isfile(path(image_id))


def size(image_id):
    return os.path.getsize(path(image_id))


def read(image_id):
    """The staged data, as chunks."""
    with open(path(image_id), 'rb') as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                return
            yield chunk


def write(image_id, chunks, disk_format):
    """Write chunks to the staging file, inspected; returns (bytes, format, virtual size).

    On any failure (ImageRefused included) the file is removed and the error raised.
    """
    target = path(image_id)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    chunks = iter(chunks)
    first = next(chunks, b'')
    if import_plugins.may_be_compressed(first):
        # Compressed data is not the disk format yet: it is checked against disk_format
        # once decompressed, as it is written to the stores.
        disk_format = None
    inspector = inspection.Inspection(disk_format)
    # inspection in a native thread beside the writes, which are native too: the hub
    # keeps reading the request and serving other clients
    inspecting = backend.HashThread(inspector)
    written = 0
    try:
        with open(target, 'wb', buffering=0) as f:
            for chunk in itertools.chain([first], chunks):
                inspecting.feed(chunk)
                tpool.execute(native.write_all, f.fileno(), chunk)
                written += len(chunk)
        inspecting.finish(green=True)
        found, virtual_size = inspector.finish()
    except BaseException:
        if inspecting.thread.is_alive():
            inspecting.feed(None)  # the thread drains its queue: this returns
        remove(image_id)
        raise
    return written, found, virtual_size


def stage(context, image_id, body, size_hint):
    """``PUT /v2/images/{id}/stage``: the request body into the staging area."""
    image, policy = service.get_for(context, image_id)
    policy.stage()
    if image['status'] != 'queued':
        raise exception.Conflict('Image %s is %s: only a queued image can be staged.'
                                 % (image_id, image['status']))
    limit, limit_error = data._limit(context, image['owner'], size_hint)
    if size_hint is not None and size_hint > limit:
        raise limit_error()
    data.begin_writing(image_id, None, status='uploading')  # the staging area, no store
    beat = data.Heartbeat(image_id)
    reader = data._LimitedReader(body, limit if size_hint is None else min(limit, size_hint),
                                 limit_error, beat)
    try:
        written, _format, _virtual = write(image_id, reader.chunks(), image['disk_format'])
        if size_hint is not None and written != size_hint:
            raise exception.BadRequest('Expected %d bytes of image data, got %d.'
                                       % (size_hint, written))
        db_api.image_update(image_id, {'upload_holder': None, 'upload_heartbeat_at': None,
                                       'size': written}, from_state='uploading')
    except BaseException as e:
        remove(image_id)
        try:
            db_api.image_update(image_id, {'status': 'queued', 'upload_holder': None,
                                           'upload_heartbeat_at': None, 'size': None},
                                from_state='uploading')
        except (exception.Conflict, exception.ImageNotFound):
            pass
        if isinstance(e, OSError):
            LOG.error('Staging image %s failed: %s', image_id, e)
            raise exception.ServiceUnavailable(reason='the staging area cannot be written')
        if isinstance(e, ValueError):
            raise exception.BadRequest('The image data could not be read: %s' % e)
        raise
    LOG.info('Image %s staged: %d bytes', image_id, written)


def list_opts():
    return [('os_glance_staging_store', staging_opts)]
