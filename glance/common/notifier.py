"""Notifications for Ceilometer, billing and audit pipelines, over oslo.messaging.

Event types and payloads are upstream Glance's, so existing consumers work unchanged:
``image.create``, ``image.update``, ``image.prepare``, ``image.upload``,
``image.activate``, ``image.delete`` and ``image.send`` carry the image (never its
locations, which may hold credentials; ``image.send`` carries the bytes sent and who
received them); ``image.member.create/update/delete`` carry the membership; ``task.*``
carry the task. A failed upload or download is sent at ``error`` priority with a message
as payload, as upstream.

Nothing is sent unless ``[oslo_messaging_notifications] driver`` is set (``messagingv2``
for a broker at ``transport_url``; ``log`` to write them to the log). Events listed in
``[DEFAULT] disabled_notifications`` are not sent, either by name (``image.send``) or by
group (``image.*`` covers every event whose name starts with ``image.``, ``image.member.*``
the membership events). Example::

    [oslo_messaging_notifications]
    driver = messagingv2
    transport_url = rabbit://glance:secret@rabbit.example.org:5672/
    [DEFAULT]
    disabled_notifications = image.send,image.prepare

The service layer (glance.image.*) calls ``image_event``/``member_event``/``task_event``
after the database change it reports. A notification that cannot be sent is logged by
oslo.messaging and never fails the user's request (``[oslo_messaging_notifications]
retry`` bounds how long it is tried; the default retries without end).
"""

import os

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging
from oslo_utils import timeutils

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

notifier_opts = [
    cfg.StrOpt('default_publisher_id', default='image.localhost',
               help='Publisher id of the notifications this service sends '
                    '("image.<host name>" lets consumers tell the nodes apart).'),
    cfg.ListOpt('disabled_notifications', default=[],
                help='Notifications not to send, by event type (image.send) or by group '
                     '(image.*, image.member.*, task.*). Every event is sent by default when '
                     '[oslo_messaging_notifications] driver is set.'),
]
CONF.register_opts(notifier_opts)

_state = {'pid': None, 'notifier': None}


def _notifier():
    """This process's Notifier, built on first use (after the fork: one per worker).

    None when the transport cannot be built (a bad transport_url): that is logged once and
    notifications are off, rather than failing the requests that would send them.
    """
    if _state['pid'] != os.getpid():
        try:
            transport = oslo_messaging.get_notification_transport(CONF)
            _state['notifier'] = oslo_messaging.Notifier(
                transport, publisher_id=CONF.default_publisher_id)
        except Exception as e:
            LOG.error('Notifications are off: the notification transport could not be '
                      'set up (%s)', type(e).__name__)
            _state['notifier'] = None
        _state['pid'] = os.getpid()
    return _state['notifier']


def reset():
    """Forget the Notifier, so the next event reads the configuration again (SIGHUP, tests)."""
    notifier, _state['notifier'], _state['pid'] = _state['notifier'], None, None
    if notifier is not None:
        notifier.transport.cleanup()


def enabled(event_type):
    disabled = CONF.disabled_notifications
    if not disabled:
        return True
    parts = event_type.split('.')
    groups = {'.'.join(parts[:n]) + '.*' for n in range(1, len(parts))}
    return event_type not in disabled and not groups.intersection(disabled)


def _context_dict(context):
    return context.to_dict() if context is not None else {}


def info(context, event_type, payload):
    if enabled(event_type):
        notifier = _notifier()
        if notifier is not None and notifier.is_enabled():
            notifier.info(_context_dict(context), event_type, payload)


def error(context, event_type, payload):
    if enabled(event_type):
        notifier = _notifier()
        if notifier is not None and notifier.is_enabled():
            notifier.error(_context_dict(context), event_type, payload)


def _isotime(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value is not None else None


def image_payload(image):
    """An image as upstream's notifications show it: no locations, which may hold secrets."""
    return {
        'id': image['id'],
        'name': image['name'],
        'status': image['status'],
        'created_at': _isotime(image.get('created_at')),
        'updated_at': _isotime(image.get('updated_at')),
        'min_disk': image['min_disk'],
        'min_ram': image['min_ram'],
        'protected': image['protected'],
        'checksum': image['checksum'],
        'owner': image['owner'],
        'disk_format': image['disk_format'],
        'container_format': image['container_format'],
        'size': image['size'],
        'virtual_size': image['virtual_size'],
        'is_public': image['visibility'] == 'public',
        'visibility': image['visibility'],
        'properties': dict(image.get('properties') or {}),
        'tags': list(image.get('tags') or []),
        'deleted': False,
        'deleted_at': None,
        'os_hash_algo': image.get('os_hash_algo'),
        'os_hash_value': image.get('os_hash_value'),
        'os_hidden': image.get('os_hidden', False),
    }


def member_payload(member):
    return {
        'image_id': member['image_id'],
        'member_id': member['member'],
        'status': member['status'],
        'created_at': _isotime(member.get('created_at')),
        'updated_at': _isotime(member.get('updated_at')),
        'deleted': False,
        'deleted_at': None,
    }


def task_payload(task):
    """A task as upstream shows it (its input is left out: it may name a source URL)."""
    return {
        'id': task['id'],
        'type': task['type'],
        'status': task['status'],
        'result': task.get('result'),
        'owner': task['owner'],
        'message': task.get('message'),
        'expires_at': _isotime(task.get('expires_at')),
        'created_at': _isotime(task.get('created_at')),
        'updated_at': _isotime(task.get('updated_at')),
        'deleted': False,
        'deleted_at': None,
    }


def _deleted(payload, deleted_at):
    payload['deleted'] = True
    payload['deleted_at'] = _isotime(deleted_at or timeutils.utcnow())
    return payload


def image_event(context, event_type, image, **extra):
    """image.create/update/prepare/upload/activate; extra keys join the payload."""
    if enabled(event_type):
        info(context, event_type, dict(image_payload(image), **extra))


def image_deleted(context, image):
    if enabled('image.delete'):
        payload = _deleted(image_payload(image), image.get('deleted_at'))
        payload['status'] = image['status']
        info(context, 'image.delete', payload)


def member_event(context, event_type, member):
    """image.member.create/update (image.member.delete: member_deleted)."""
    if enabled(event_type):
        info(context, event_type, member_payload(member))


def member_deleted(context, member):
    if enabled('image.member.delete'):
        info(context, 'image.member.delete', _deleted(member_payload(member), None))


def task_event(context, event_type, task):
    """task.create/run/processing/success/failure/delete, for the import engine."""
    if enabled(event_type):
        payload = task_payload(task)
        if event_type == 'task.delete':
            payload = _deleted(payload, task.get('deleted_at'))
        info(context, event_type, payload)


def send_payload(context, image, bytes_sent):
    return {
        'bytes_sent': bytes_sent,
        'image_id': image['id'],
        'owner_id': image['owner'],
        'receiver_tenant_id': getattr(context, 'project_id', None),
        'receiver_user_id': getattr(context, 'user_id', None),
    }


class SentBody:
    """A download's body that sends ``image.send`` once the client has had it all.

    Counts what goes through; a body that breaks off sends ``image.send`` at ``error``
    priority instead. A cache file sent with sendfile (glance.common.wsgi.ZeroCopy) is
    never iterated: ZeroCopy calls ``sendfile_done()`` after the kernel sent it.
    """

    def __init__(self, context, image, body, length):
        self.context = context
        self.image = image
        self.body = body
        self.length = length
        self.sent = 0
        self.done = False

    def __getattr__(self, name):
        if name.startswith('sendfile_') and name != 'sendfile_done':
            return getattr(self.body, name)
        raise AttributeError(name)

    def sendfile_done(self):
        self.sent = self.length

    def __iter__(self):
        try:
            for chunk in self.body:
                self.sent += len(chunk)
                yield chunk
        except Exception as e:
            self._report(e)
            raise

    def _report(self, failure=None):
        if self.done:
            return
        self.done = True
        if failure is None and self.sent >= self.length:
            info(self.context, 'image.send', send_payload(self.context, self.image,
                                                          self.sent))
        else:
            error(self.context, 'image.send',
                  'Image %s: %d of %d bytes sent before the transfer broke off'
                  % (self.image['id'], self.sent, self.length))

    def close(self):
        try:
            close = getattr(self.body, 'close', None)
            if close is not None:
                close()
        finally:
            self._report()


def list_opts():
    return [(None, notifier_opts)]
