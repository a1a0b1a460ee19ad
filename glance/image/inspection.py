"""Format inspection of image data as it is written: what it is, how big it is, is it safe.

Every byte path that creates image data (an upload today) feeds its chunks to oslo.utils'
format inspectors (``imageutils.format_inspector``, the maintained parsers of qcow2, vmdk,
vhd(x), vdi, qed, luks, iso, gpt/mbr and raw) on one of the upload's hashing threads: one
pass over the bytes, no second read. At the end:

* the detected format must be one the library recognizes as a single format (content that
  parses as two formats at once is refused);
* its safety checks must pass: a qcow2 naming a backing file or an external data file, a
  vmdk whose descriptor names other files or is not monolithicSparse/streamOptimized, an MBR
  with bad partitions... are refused;
* with ``[image_format] require_image_format_match`` (the default), the content must be what
  ``disk_format`` says (raw may also be a partitioned disk, gpt/mbr);
* the image's ``virtual_size`` comes from the detected format.

A refusal is ``ImageRefused`` (400, with the reason): the upload is undone and the image
goes back to queued.
"""

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils.imageutils import format_inspector

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

inspection_opts = [
    cfg.BoolOpt('require_image_format_match', default=True,
                help='Refuse image data whose content is not the format its disk_format '
                     'declares (for the formats the inspector knows: qcow2, vmdk, vhd, vhdx, '
                     'vdi, iso, raw). Safety checks (backing files, external extents) run '
                     'whatever this says.'),
]
CONF.register_opts(inspection_opts, group='image_format')

# disk_format -> the inspector formats that content declared so may have
_ACCEPTED = {
    'raw': ('raw', 'gpt'),  # a whole disk often starts with a partition table
    'qcow2': ('qcow2',),
    'vmdk': ('vmdk',),
    'vhd': ('vhd',),
    'vhdx': ('vhdx',),
    'vdi': ('vdi',),
    'iso': ('iso',),
}


class ImageRefused(exception.BadRequest):
    message = 'Image data refused: %(reason)s'


class Inspection:
    """The format inspectors of one image's data, fed chunk by chunk.

    ``update(chunk)`` runs the inspectors over the chunk (call it from one thread: the
    upload puts it on a hashing thread beside the multihash, where it costs about 0.02 s of
    CPU per GiB); ``finish()`` returns (format name, virtual size) or raises ImageRefused.
    """

    def __init__(self, disk_format):
        self.disk_format = disk_format
        self.error = None
        self._pending = None
        self._closed = False
        # The library's wrapper pulls chunks from an iterator: hand it one at a time.
        self.wrapper = format_inspector.InspectWrapper(iter(self._take, None))

    def _take(self):
        chunk, self._pending = self._pending, None
        return chunk

    def update(self, chunk):
        if self.error is not None or self._closed or not chunk:
            return
        self._pending = chunk
        try:
            next(self.wrapper)
        except StopIteration:
            self._closed = True
        except Exception as e:  # the wrapper stops on its first error
            self.error = e

    def _close(self):
        if not self._closed and self.error is None:
            self._closed = True
            try:
                next(self.wrapper)  # the source ends: the wrapper finishes its inspectors
            except StopIteration:
                pass
            except Exception as e:
                self.error = e

    def finish(self):
        """(format, virtual_size) of the content, or ImageRefused."""
        self._close()
        if self.error is not None:
            raise ImageRefused(reason='the content cannot be inspected: %s' % self.error)
        try:
            detected = self.wrapper.format
        except format_inspector.ImageFormatError as e:
            raise ImageRefused(reason=str(e))
        if detected is None:
            raise ImageRefused(reason='the content format could not be determined')
        try:
            detected.safety_check()
        except format_inspector.SafetyCheckFailed as e:
            LOG.warning('Refused %s image data (declared %s): %s', detected.NAME,
                        self.disk_format, e)
            raise ImageRefused(reason='%s content failed the safety checks: %s'
                               % (detected.NAME, _failures(e)))
        accepted = _ACCEPTED.get(self.disk_format)
        if (CONF.image_format.require_image_format_match and accepted is not None
                and detected.NAME not in accepted):
            raise ImageRefused(reason='the content is %s, not %s as the disk_format says'
                               % (detected.NAME, self.disk_format))
        try:
            virtual_size = detected.virtual_size
        except Exception:
            virtual_size = None
        return detected.NAME, virtual_size


def _failures(error):
    failures = getattr(error, 'failures', None)
    if isinstance(failures, dict) and failures:
        return '; '.join('%s: %s' % (name, reason) for name, reason in sorted(
            failures.items()))
    return str(error)


def list_opts():
    return [('image_format', inspection_opts)]
