"""The glance_store adapter: which backends exist, and add/get/delete on them.

Backends are glance_store's multi-store configuration: ``[DEFAULT] enabled_backends =
name:type,...``, ``[glance_store] default_backend``, and one section per backend named after
it. Every location glance records carries ``{"store": <backend name>}`` in its metadata.
Backend credentials stay in this process's configuration: nothing here returns them.
"""

import errno
import hashlib
import logging as std_logging
import os

import eventlet
from glance_store import exceptions as store_exc
from glance_store import multi_backend
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import native

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

store_opts = [
    cfg.DictOpt('enabled_backends', default={'local': 'file'},
                help='Storage backends, as "name:type" pairs (types: file, swift, s3, rbd, '
                     'http, cinder). Each backend is configured in a section named after '
                     'it; "[glance_store] default_backend" names the one uploads use unless '
                     'a request asks for another with the X-Image-Meta-Store header.'),
]
CONF.register_opts(store_opts)

_configured = False


class _NoCinderNoise(std_logging.Filter):
    """Drop stevedore's error about the Cinder driver when os-brick is absent.

    glance_store loads every driver to list their options and logs that ERROR at every
    start, though no Cinder store is configured.
    """

    def filter(self, record):
        return 'os_brick' not in record.getMessage()


std_logging.getLogger('stevedore.extension').addFilter(_NoCinderNoise())


def configure(conf=CONF):
    """Register the stores' options and load the stores (once per process)."""
    global _configured
    if _configured:
        return
    multi_backend.register_store_opts(conf)
    # Embedded defaults, where the operator left a value unset. (Overrides, because
    # glance_store registers its options again when it loads a driver, losing defaults.)
    for name, kind in conf.enabled_backends.items():
        if kind == 'file' and not getattr(conf, name).filesystem_store_datadir:
            conf.set_override('filesystem_store_datadir', '$state_path/images/%s' % name,
                              group=name)
    if not conf.glance_store.default_backend and len(conf.enabled_backends) == 1:
        conf.set_override('default_backend', list(conf.enabled_backends)[0],
                          group='glance_store')
    try:
        multi_backend.create_multi_stores(conf)
        multi_backend.verify_store()
    except store_exc.BackendException as e:
        raise exception.ConfigError(reason='storage backends: %s' % e)
    _configured = True


def register_opts(conf=CONF):
    """Only the options (for config generation and for processes that touch no store)."""
    multi_backend.register_store_opts(conf)


def default_backend():
    return CONF.glance_store.default_backend


def backend_type(name):
    return CONF.enabled_backends.get(name)


def check_backend(name):
    """The name of a store data may be written to (BadRequest if it cannot be)."""
    if name not in CONF.enabled_backends:
        raise exception.BadRequest('Store %s is not available on this node.' % name)
    if read_only(name):
        raise exception.BadRequest('Store %s is read-only: its images are registered by '
                                   'location.' % name)
    return name


def read_only(name):
    """Whether Glance only reads this store (http): nothing is uploaded or imported there."""
    return backend_type(name) == 'http'


def store_weight(name):
    """A store's ``weight`` (glance_store's option in its section): higher is preferred."""
    return getattr(getattr(CONF, name, None), 'weight', 0) or 0


def by_weight(locations):
    """Locations, the one in the store of highest weight first (config order for a tie)."""
    order = {name: i for i, name in enumerate(CONF.enabled_backends)}
    return sorted(locations, key=lambda loc: (
        -store_weight(loc['metadata'].get('store')),
        order.get(loc['metadata'].get('store'), len(order))))


def _stores_by_weight():
    names = list(CONF.enabled_backends)
    return sorted(names, key=lambda name: (-store_weight(name), names.index(name)))


# What ``GET /v2/info/stores/detail`` shows of each store kind: settings an operator may
# publish, never a credential or an address with one.
_DETAIL = {
    'file': {'datadir': 'filesystem_store_datadir', 'chunk_size': 'filesystem_store_chunk_size',
             'thin_provisioning': 'filesystem_thin_provisioning'},
    'rbd': {'pool': 'rbd_store_pool', 'chunk_size': 'rbd_store_chunk_size',
            'thin_provisioning': 'rbd_thin_provisioning'},
    'swift': {'container': 'swift_store_container',
              'large_object_size': 'swift_store_large_object_size',
              'large_object_chunk_size': 'swift_store_large_object_chunk_size'},
    's3': {'bucket': 's3_store_bucket',
           'large_object_size': 's3_store_large_object_size',
           'large_object_chunk_size': 's3_store_large_object_chunk_size'},
    'http': {},
    'cinder': {'volume_type': 'cinder_volume_type'},
}


def stores_detail():
    """The ``GET /v2/info/stores/detail`` body (admins): type, weight and safe settings."""
    stores = []
    for name in _stores_by_weight():
        kind = backend_type(name)
        section = getattr(CONF, name, None)
        entry = {'id': name, 'type': kind, 'weight': store_weight(name), 'properties': {}}
        description = getattr(section, 'store_description', None)
        if description:
            entry['description'] = description
        if name == default_backend():
            entry['default'] = True
        for shown, option in _DETAIL.get(kind, {}).items():
            value = getattr(section, option, None)
            if value is not None:
                entry['properties'][shown] = value
        stores.append(entry)
    return {'stores': stores}


def stores_info():
    """The ``GET /v2/info/stores`` body: backend names, descriptions, the default.

    Ordered by store weight, highest first, as upstream.
    """
    stores = []
    for name in _stores_by_weight():
        entry = {'id': name}
        description = getattr(getattr(CONF, name, None), 'store_description', None)
        if description:
            entry['description'] = description
        if name == default_backend():
            entry['default'] = True
        if read_only(name):
            entry['read-only'] = 'true'  # as upstream (a string): clients skip it for imports
        stores.append(entry)
    return {'stores': stores}


def add(image_id, data, size, backend, hashing_algo, context=None):
    """Write image data; returns (url, size, checksum, multihash, metadata)."""
    configure()
    url, written, checksum, multihash, metadata = multi_backend.add_with_multihash(
        CONF, image_id, data, size, backend, hashing_algo, context=context)
    metadata = dict(metadata or {})
    metadata['store'] = backend
    return url, written, checksum, multihash, metadata


_threading = native.threading
_queue = native.queue


class HashThread:
    """Hashes computed in a native thread of their own, fed the chunks in order.

    Each hasher is anything with ``update(bytes)``: a hashlib object, a
    glance.common.pieces.PieceHasher, a glance.image.inspection.Inspection. One thread
    updates them all in turn, so extra observers of a stream (piece hashes, format
    inspection) ride on a thread the stream already pays for instead of adding threads,
    queues and GIL hand-offs of their own. ``put`` blocks (for native threads); ``feed``
    waits cooperatively (for green threads). ``finish()`` waits for the last chunk and
    returns the first hasher.
    """

    def __init__(self, hasher, *more, depth=8):
        self.hashers = (hasher,) + more
        self.hasher = hasher
        self.queue = _queue.Queue(depth)
        self.error = None
        self.thread = _threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            chunk = self.queue.get()
            if chunk is None:
                return
            if self.error is not None:
                continue  # keep draining: the feeder must not block forever
            try:
                for hasher in self.hashers:
                    hasher.update(chunk)  # hashlib releases the GIL on large buffers
            except Exception as e:  # kept for finish()
                self.error = e

    def put(self, chunk):
        self.queue.put(chunk)

    def feed(self, chunk):
        native.put_green(self.queue, chunk)

    def finish(self, green=False):
        (self.feed if green else self.put)(None)
        if green:
            while self.thread.is_alive():
                eventlet.sleep(0.001)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.hasher


def fast_file_path(backend_name):
    """True where fast_file_add() can write for this backend (see there)."""
    conf = getattr(CONF, backend_name, None)
    return (backend_type(backend_name) == 'file' and conf is not None
            and not conf.filesystem_store_datadirs
            and not conf.filesystem_store_metadata_file
            and not conf.filesystem_thin_provisioning)


def fast_file_add(image_id, read, size, backend_name, hashing_algo, observers=()):
    """The file store's add(), with MD5 and the multihash computed on two cores at once.

    glance_store's file driver hashes MD5, then the multihash, then writes each chunk in one
    thread, which bounds an upload to one core (about 300 MiB/s here). This writes the same
    file at the same location (``file://<datadir>/<image id>``) and returns the same tuple as
    add(); reads and deletes still go through glance_store. Returns None where the store
    uses a feature this does not cover (several datadirs, a metadata file, thin
    provisioning): the caller then uses add(). Runs in a native thread; ``read(n)`` gives
    the image data.

    ``observers`` (objects with ``update(bytes)``: piece hashes, format inspection) see
    every chunk on the multihash's thread. MD5 (about 1.4 s of CPU per GiB here) and SHA-512
    (1.3 s) each keep a core busy; SHA-256 pieces (0.6 s) and inspection (0.02 s) beside
    the multihash leave the slowest thread the bound, without a third hashing thread.
    """
    if not fast_file_path(backend_name):
        return None
    conf = getattr(CONF, backend_name)
    datadir = conf.filesystem_store_datadir
    path = os.path.join(datadir, image_id)
    try:
        os.makedirs(datadir, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise store_exc.Duplicate(image=path)
    hashers = [HashThread(hashlib.md5(usedforsecurity=False)),
               HashThread(hashlib.new(hashing_algo), *observers)]
    written = 0
    try:
        try:
            while True:
                chunk = read(_WRITE_CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if size and written > size:
                    raise store_exc.Invalid('Size exceeds: expected %d bytes, got %d bytes'
                                            % (size, written))
                for hasher in hashers:
                    hasher.put(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        finally:
            checksum, multihash = [hasher.finish().hexdigest() for hasher in hashers]
            os.close(fd)
    except OSError as e:
        os.unlink(path)
        if e.errno in (errno.ENOSPC, errno.EFBIG):
            raise store_exc.StorageFull()
        if e.errno == errno.EACCES:
            raise store_exc.StorageWriteDenied()
        raise
    except BaseException:
        os.unlink(path)
        raise
    if (conf.filesystem_store_file_perm or 0) > 0:
        try:
            os.chmod(path, int(str(conf.filesystem_store_file_perm), 8))
        except OSError:
            LOG.warning('Unable to set the permissions of image %s', image_id)
    return 'file://%s' % path, written, checksum, multihash, {'store': backend_name}


_WRITE_CHUNK = 1024 * 1024


def get(location, offset=0, length=None, context=None):
    """(iterator of chunks, size) for a location {'url', 'metadata'}.

    Only some stores read from an offset (``supports_offset``); the caller skips bytes
    itself for the others.
    """
    configure()
    backend = location['metadata'].get('store')
    kwargs = {}
    if offset or length:
        kwargs = {'offset': offset, 'chunk_size': length}
    try:
        return multi_backend.get(location['url'], backend, context=context, **kwargs)
    except store_exc.NotFound:
        raise exception.NotFound('The image data is missing from its store.')
    except (store_exc.BackendException, store_exc.RemoteServiceUnavailable) as e:
        LOG.error('Store %s failed to open image data: %s', backend, type(e).__name__)
        raise exception.BackendUnavailable()


def supports_offset(location):
    return backend_type(location['metadata'].get('store')) == 'file'


def file_path(location):
    """The local path of a file-store location (readable by this process), or None."""
    if not supports_offset(location) or not location['url'].startswith('file://'):
        return None
    return location['url'][len('file://'):]


def delete(location, context=None):
    """Delete the data at a location; a location already gone counts as deleted."""
    configure()
    backend = location['metadata'].get('store')
    if not owns_data(backend):
        LOG.info('Data of a location of store %s is not Glance\'s to delete: left there',
                 backend)
        return
    try:
        multi_backend.delete(location['url'], backend, context=context)
    except store_exc.NotFound:
        LOG.info('Data of a location of store %s was already gone', backend)


def owns_data(name):
    """Whether Glance deletes the data of this store's locations.

    Not of a read-only store: its locations point at someone else's web server, which
    glance_store can only read (its delete raises).
    """
    return not read_only(name)


def safe_url(url):
    """A location URL with any credential (user:password@) removed, for logs."""
    scheme, sep, rest = url.partition('://')
    if not sep:
        return url
    # An S3 secret key may hold "/": the credential ends at the last "@", not at the
    # first "/" (image ids and container names hold no "@").
    if '@' in rest:
        rest = rest.rsplit('@', 1)[1]
    return '%s://%s' % (scheme, rest)


def list_opts():
    return [(None, store_opts)]
