"""Import plugins: changes made to staged data and to the image before it is stored.

The plugins upstream operators rely on, each off unless listed in ``[image_import_opts]
image_import_plugins``, run in this order on glance-direct and web-download imports (never
on copy-image, whose data is already an image's):

* ``image_decompression``: staged data compressed with gzip or zip (by its magic bytes, not
  its name) is decompressed, up to the image size cap. An image whose container_format is
  ``compressed`` is left as it is, as upstream.
* ``image_conversion``: the staged data is converted with ``qemu-img convert`` from its
  declared ``disk_format`` (never guessed: ``-f`` is always given) to
  ``[image_conversion] output_format``, and the image's ``disk_format`` follows.
* ``inject_image_metadata``: the properties of ``[inject_metadata_properties] inject`` are
  set on the image, unless the importing user has one of ``ignore_user_roles``.

Whatever the plugins did, the data is inspected again as it is written to the stores
(glance.image.inspection), against the image's disk_format as it is then.
"""

import gzip
import json
import os
import shutil
import subprocess
import zipfile

from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception
from glance.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

PLUGINS = ('image_decompression', 'image_conversion', 'inject_image_metadata')

plugin_opts = [
    cfg.ListOpt('image_import_plugins', default=[],
                help='Import plugins to run on glance-direct and web-download imports, '
                     'among: %s. They run in that order whatever the order here.'
                     % ', '.join(PLUGINS)),
]
conversion_opts = [
    cfg.StrOpt('output_format', default='raw', choices=['raw', 'qcow2', 'vmdk'],
               help='Disk format image_conversion converts imported images to.'),
    cfg.IntOpt('timeout', default=3600, min=1,
               help='Seconds one qemu-img run may take before the import fails.'),
]
inject_opts = [
    cfg.DictOpt('inject', default={},
                help='Properties inject_image_metadata sets on every imported image, as '
                     '"name:value" pairs.'),
    cfg.ListOpt('ignore_user_roles', default=['admin'],
                help='Users with any of these roles import without the injected '
                     'properties.'),
]
CONF.register_opts(plugin_opts, group='image_import_opts')
CONF.register_opts(conversion_opts, group='image_conversion')
CONF.register_opts(inject_opts, group='inject_metadata_properties')

_GZIP_MAGIC = b'\x1f\x8b'
_ZIP_MAGIC = b'PK\x03\x04'
_CHUNK = units.Mi


def enabled(name):
    return name in CONF.image_import_opts.image_import_plugins


def may_be_compressed(first_bytes):
    """True if staged data starting so will be decompressed before it is imported."""
    return enabled('image_decompression') and first_bytes.startswith((_GZIP_MAGIC,
                                                                      _ZIP_MAGIC))


def properties_to_inject(roles):
    """What inject_image_metadata will set for a user with ``roles`` (decided at request)."""
    if not enabled('inject_image_metadata'):
        return {}
    if set(roles or ()) & set(CONF.inject_metadata_properties.ignore_user_roles):
        return {}
    return dict(CONF.inject_metadata_properties.inject)


def run(image, path, inject, progress):
    """Apply the enabled plugins to an image's staged data (the file at ``path``).

    Returns the image as it is now.
    """
    if enabled('image_decompression') and image['container_format'] != 'compressed':
        _decompress(image, path, progress)
    if enabled('image_conversion'):
        image = _convert(image, path, progress)
    if inject:
        image = db_api.image_change_properties(image['id'], inject)
        LOG.info('Image %s: injected properties %s', image['id'], ', '.join(sorted(inject)))
    return image


def _decompress(image, path, progress):
    with open(path, 'rb') as f:
        magic = f.read(4)
    if magic.startswith(_GZIP_MAGIC):
        opener, kind = (lambda: gzip.open(path, 'rb')), 'gzip'
    elif magic.startswith(_ZIP_MAGIC):
        opener, kind = _zip_member(path), 'zip'
    else:
        return
    progress.note('Decompressing %s data' % kind)
    # In a native thread: the worker keeps serving, and the task's heartbeat goes on.
    written = tpool.execute(_decompress_file, opener, kind, path)
    LOG.info('Image %s: decompressed %s data, %d bytes', image['id'], kind, written)


def _decompress_file(opener, kind, path):
    target = path + '.decompressed'
    limit = CONF.image_size_cap
    written = 0
    try:
        with opener() as source, open(target, 'wb') as out:
            while True:
                chunk = source.read(_CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > limit:
                    raise exception.ImageSizeLimitExceeded()
                out.write(chunk)
    except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as e:
        _unlink(target)
        raise exception.BadRequest('The %s data cannot be decompressed: %s' % (kind, e))
    except BaseException:
        _unlink(target)
        raise
    os.replace(target, path)
    return written


def _zip_member(path):
    def opener():
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            archive.close()
            raise exception.BadRequest('A zip archive to import must hold exactly one file, '
                                       'not %d.' % len(members))
        return _Closing(archive.open(members[0]), archive)
    return opener


class _Closing:
    """A zip member that also closes its archive."""

    def __init__(self, member, archive):
        self.member, self.archive = member, archive

    def read(self, size):
        return self.member.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.member.close()
        self.archive.close()
        return False


_QEMU_FORMATS = {'raw': 'raw', 'qcow2': 'qcow2', 'vmdk': 'vmdk', 'vhd': 'vpc',
                 'vhdx': 'vhdx', 'vdi': 'vdi'}


def _qemu_img(*args):
    if shutil.which('qemu-img') is None:
        raise exception.ServiceUnavailable(reason='qemu-img is not installed on this '
                                                  'glance-api host (image_conversion)')
    try:
        result = tpool.execute(subprocess.run, ['qemu-img'] + list(args),
                               capture_output=True, text=True,
                               timeout=CONF.image_conversion.timeout)
    except subprocess.TimeoutExpired:
        raise exception.BadRequest('qemu-img took longer than %d seconds.'
                                   % CONF.image_conversion.timeout)
    if result.returncode != 0:
        raise exception.BadRequest('qemu-img %s failed: %s'
                                   % (args[0], result.stderr.strip()[-300:]))
    return result.stdout


def _convert(image, path, progress):
    target_format = CONF.image_conversion.output_format
    source_format = _QEMU_FORMATS.get(image['disk_format'])
    if image['disk_format'] == target_format:
        return image
    if source_format is None:
        raise exception.BadRequest('image_conversion cannot convert disk_format %s.'
                                   % image['disk_format'])
    info = json.loads(_qemu_img('info', '--output=json', '-f', source_format, path))
    if info.get('backing-filename') or info.get('format-specific', {}).get(
            'data', {}).get('data-file'):
        raise exception.BadRequest('The image names another file; it is not converted.')
    progress.note('Converting %s to %s' % (image['disk_format'], target_format))
    target = path + '.converted'
    try:
        _qemu_img('convert', '-f', source_format, '-O', _QEMU_FORMATS[target_format], path,
                  target)
    except BaseException:
        _unlink(target)
        raise
    os.replace(target, path)
    LOG.info('Image %s converted from %s to %s', image['id'], image['disk_format'],
             target_format)
    return db_api.image_change_properties(image['id'], {}, values={
        'disk_format': target_format})


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def list_opts():
    return [('image_import_opts', plugin_opts), ('image_conversion', conversion_opts),
            ('inject_metadata_properties', inject_opts)]
