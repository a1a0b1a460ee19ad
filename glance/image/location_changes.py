"""Adding, replacing and removing an image's locations: data registered by URL.

Two APIs, as upstream:

* ``POST /v2/images/{id}/locations`` (API 2.17, ``add_image_location``, service users by
  default): a queued image gets its data by location, which is then read and hashed in the
  background (glance.image.location_hash) before the image is active;
  ``GET /v2/images/{id}/locations`` (``fetch_image_location``) lists them;
* the older JSON-patch form on ``/locations`` (``show_multiple_locations`` must be on, and
  ``set_image_location`` / ``delete_image_location`` allow it): add (the image becomes
  active at once, with the hashes the caller gave, as upstream), replace (the same URLs,
  other metadata) and remove (never an active image's last location).

Every URL is checked before it is recorded (``_checked_url``): it must name an object of a
configured store in the place that store keeps images (glance.store.registration), an http
URL must be reachable under the web-download rules, and an object must not already hold
another image's data.
"""

import hashlib
import urllib.parse
import uuid

from oslo_config import cfg
from oslo_log import log as logging
from oslo_serialization import jsonutils

from glance.common import exception
from glance.common import notifier
from glance.db import api as db_api
from glance.image import cache_coherence
from glance.image import data
from glance.image import location_hash
from glance.image import locations
from glance.image import service
from glance.image import task_runner
from glance.image import web_fetch
from glance.store import backend
from glance.store import registration

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


HASH_ALGOS = tuple(sorted(hashlib.algorithms_guaranteed
                          - {'md5', 'sha1', 'shake_128', 'shake_256'}))
_HEX = set('0123456789abcdef')


def _hex(value, length, name):
    if not isinstance(value, str) or len(value) != length or not set(value) <= _HEX:
        raise exception.BadRequest('%s must be %d lowercase hexadecimal digits.'
                                   % (name, length))


def validation_data(value, with_checksum):
    """The caller's validation data, checked (400 if malformed), as a dict.

    ``os_hash_algo`` and ``os_hash_value`` come together; the value must have the length
    of the algorithm's digest. ``checksum`` (MD5) only in the JSON-patch form, as upstream.
    """
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        raise exception.BadRequest('validation_data must be a JSON object.')
    allowed = (('checksum',) if with_checksum else ()) + ('os_hash_algo', 'os_hash_value')
    extra = sorted(set(value) - set(allowed))
    if extra:
        raise exception.BadRequest('validation_data may hold only %s, not %s.'
                                   % (', '.join(allowed), ', '.join(extra)))
    if ('os_hash_algo' in value) != ('os_hash_value' in value):
        raise exception.BadRequest('validation_data needs both os_hash_algo and '
                                   'os_hash_value, or neither.')
    if 'os_hash_algo' in value:
        algo = value['os_hash_algo']
        if algo not in HASH_ALGOS:
            raise exception.BadRequest('os_hash_algo must be one of %s.' % ', '.join(HASH_ALGOS))
        _hex(value['os_hash_value'], hashlib.new(algo).digest_size * 2, 'os_hash_value')
    if 'checksum' in value:
        _hex(value['checksum'], 32, 'checksum')
    return dict(value)


def _checked_url(context, image, url, store=None):
    """(url, store, size) of a location to register on ``image``, or a 400 saying why not.

    The URL must name an object of a configured store (glance.store.registration); an http
    one must be reachable under the web-download rules (public addresses only, no
    redirect), which is also how it is sized; and an object in a store only Glance writes
    must not already hold another image's data, which would hand that image's bytes
    (perhaps another project's) to this one.
    """
    if not isinstance(url, str) or not url or len(url) > registration.MAX_URL:
        raise registration.LocationRefused(reason='a location is a URL of at most %d '
                                                  'characters' % registration.MAX_URL)
    size = None
    if urllib.parse.urlsplit(url).scheme.lower() in ('http', 'https'):
        # sized by web_fetch, whose every connection is checked, not by glance_store
        try:
            size = web_fetch.size_of(url)
        except web_fetch.WebDownloadRefused as e:
            # (upstream's words, which clients such as tempest look for)
            raise registration.LocationRefused(reason='the URL does not pass filtering: %s'
                                               % e.kwargs.get('reason', str(e)))
        if not size:
            raise registration.LocationRefused(reason='%s is empty' % url[:200])
    canonical, store, size = registration.check(url, store, context, size=size)
    if backend.backend_type(store) in registration.PRIVATE_KINDS:
        if db_api.image_location_users(canonical, image['id']) or (
                canonical != url and db_api.image_location_users(url, image['id'])) or (
                _named_after_another_image(canonical, image['id'])):
            raise registration.LocationRefused(reason='the object already holds the data of '
                                                      'another image')
    if canonical in [loc['url'] for loc in image['locations']]:
        raise exception.BadRequest('Image %s already has this location.' % image['id'])
    limit, limit_error = data._limit(context, image['owner'], size)
    if size > limit:
        raise limit_error()
    return canonical, store, size


def _named_after_another_image(url, image_id):
    """Whether the object is named after another image, as Glance names what it writes.

    An upload or import writes ``<image id>`` (Swift segments ``<image id>-00001``...)
    before any location records it: such an object, even partial, is that image's data.
    """
    name = url.split('?', 1)[0].rstrip('/').rsplit('/', 1)[-1]
    try:
        named = str(uuid.UUID(name[:36]))
    except ValueError:
        return False
    if named == image_id:
        return False  # a Nova snapshot in RBD is named after its own image
    try:
        db_api.image_get(named, show_deleted=True)
    except exception.ImageNotFound:
        return False
    return True


def _metadata(value, store):
    metadata = dict(value or {})
    if metadata.get('store', store) != store:
        raise registration.LocationRefused(reason='the URL is in store %s, not %s'
                                           % (store, metadata['store']))
    metadata['store'] = store
    if len(jsonutils.dumps(metadata)) > 65535:
        raise exception.BadRequest('Location metadata is limited to 64 KiB of JSON.')
    return metadata


def add_location(context, image_id, url, validation):
    """``POST /v2/images/{id}/locations``: data registered by URL for a queued image.

    With ``do_secure_hash`` a location_import task (glance.image.location_hash) reads and
    hashes the data. As upstream, an image whose caller gave a multihash to check is
    ``importing`` until the data matches it; one without is active at once (there is
    nothing its data could fail to match) and gets its hashes when the task is done.
    Without ``do_secure_hash`` the image is active at once with the caller's hashes.
    Either way a task records what happened. Returns it.
    """
    image, policy = service.get_for(context, image_id)
    policy.add_location()
    expected = validation_data(validation, with_checksum=False)
    if image['status'] != 'queued':
        raise exception.Conflict('Image %s is %s: a location is added only to a queued image.'
                                 % (image_id, image['status']))
    if not image['disk_format'] or not image['container_format']:
        raise exception.BadRequest('Properties container_format, disk_format must be set '
                                   'prior to adding a location.')
    url, store, size = _checked_url(context, image, url)
    task = db_api.task_create({
        'id': str(uuid.uuid4()), 'type': location_hash.TASK_TYPE, 'status': 'pending',
        'owner': image['owner'], 'image_id': image_id, 'request_id': context.request_id,
        'user_id': context.user_id, 'message': '',
        'input': dict(expected, url=url, store=store, size=size)})
    notifier.task_event(context, 'task.create', task)
    location = {'url': url, 'metadata': {'store': store}}
    secure = CONF.do_secure_hash
    values = {'size': size, 'checksum': None, 'os_hash_algo': expected.get('os_hash_algo'),
              'os_hash_value': expected.get('os_hash_value')}
    if secure and not expected:
        values['os_hash_algo'] = CONF.hashing_algorithm  # its value comes with the task
    try:
        image = db_api.image_activate(image_id, values, location, from_state='queued',
                                      status='importing' if secure and expected
                                      else 'active')
    except BaseException as e:
        task_runner.finish(task['id'], 'failure', message=str(e)
                           if isinstance(e, exception.GlanceException) else
                           'The location could not be recorded.')
        raise
    LOG.info('Image %s: location in store %s (%d bytes) registered by project %s%s',
             image_id, store, size, context.project_id,
             '; verifying it as task %s' % task['id'] if secure else '')
    if image['status'] == 'active':
        notifier.image_event(context, 'image.activate', image)
    if secure:
        location_hash.start(task)
    else:
        task_runner.finish(task['id'], 'success', result={'image_id': image_id},
                           message='do_secure_hash is off: the data was not read')
    return task


def list_locations(context, image_id):
    """``GET /v2/images/{id}/locations``: every live location (credentials removed)."""
    image, policy = service.get_for(context, image_id)
    policy.fetch_locations()
    return [{'url': backend.safe_url(loc['url']), 'metadata': loc['metadata']}
            for loc in image['locations']]


# --- the JSON-patch form ----------------------------------------------------------------------

def _entry(value):
    """A location as a patch gives it: {"url", "metadata"[, "validation_data"]}."""
    if not isinstance(value, dict) or not isinstance(value.get('url'), str):
        raise exception.BadRequest('A location is a JSON object with a "url" and '
                                   '"metadata".')
    extra = sorted(set(value) - {'url', 'metadata', 'validation_data'})
    if extra:
        raise exception.BadRequest('A location holds only url, metadata and '
                                   'validation_data, not %s.' % ', '.join(extra))
    if not isinstance(value.get('metadata', {}), dict):
        raise exception.BadRequest('The metadata of a location must be a JSON object.')
    return value


def _check_against(image, expected):
    """409 unless the caller's validation data agrees with an image that has data."""
    for name in ('checksum', 'os_hash_algo', 'os_hash_value'):
        if name in expected and expected[name] != image[name]:
            raise exception.Conflict('The %s given for the location does not match the '
                                     'image\'s.' % name)


def _plan_add(context, image, value, planned):
    entry = _entry(value)
    if image['status'] not in ('queued', 'active'):
        raise exception.Conflict("It's not allowed to add locations if image status is %s."
                                 % image['status'])
    raw = entry.get('validation_data')
    if isinstance(raw, dict) and (image['status'] == 'active' or planned):
        # a mismatch with data the image has is a conflict, as upstream, before any
        # question of form (a sha256 value where the image has sha512 is a mismatch)
        _check_against(image if image['status'] == 'active' else planned[0]['values'], raw)
    expected = validation_data(raw, with_checksum=True)
    hint = (entry.get('metadata') or {}).get('store')
    shadow = dict(image, locations=image['locations'] + [
        {'url': p['url']} for p in planned])
    url, store, size = _checked_url(context, shadow, entry['url'],
                                    hint if isinstance(hint, str) else None)
    known = image['size'] if image['status'] == 'active' else (
        planned[0]['values']['size'] if planned else None)
    if known is not None and size != known:
        raise exception.Conflict('The location holds %d bytes; the image has %d.'
                                 % (size, known))
    return {'url': url, 'metadata': _metadata(entry.get('metadata'), store),
            'values': {'size': size, 'checksum': expected.get('checksum'),
                       'os_hash_algo': expected.get('os_hash_algo'),
                       'os_hash_value': expected.get('os_hash_value')}}


def patch(context, image_id, changes):
    """Apply the ``/locations`` operations of a JSON patch, all checked before any is done.

    ``changes`` are {'op', 'index' (None for the whole list, '-' or a number), 'value'}.
    Returns the image, or None when nothing changed.
    """
    return apply(plan(context, image_id, changes))


def plan(context, image_id, changes):
    """Check every ``/locations`` operation of a patch (policy, status, URLs); change nothing.

    Returns what ``apply`` does.
    """
    if not CONF.show_multiple_locations:
        raise exception.Forbidden('Locations cannot be changed through this API unless '
                                  'show_multiple_locations is on.')
    image, policy = service.get_for(context, image_id)
    policy.modify()
    adds, removes, metadata = [], [], {}
    current = list(image['locations'])
    for change in changes:
        op, index = change['op'], change['index']
        if op == 'add':
            policy.set_location()
            if index not in ('-', len(current) + len(adds)):
                raise exception.BadRequest('Invalid position for adding a location: '
                                           'locations are added at the end (/locations/-).')
            adds.append(_plan_add(context, image, change['value'], adds))
        elif op == 'remove':
            policy.delete_location()
            if image['status'] != 'active':
                raise exception.Conflict("It's not allowed to remove locations if image "
                                         "status is %s." % image['status'])
            if not isinstance(index, int) or not 0 <= index < len(current):
                raise exception.BadRequest('Invalid position for removing a location.')
            if len(current) + len(adds) == 1:
                raise exception.Forbidden('Cannot remove the last location of an active '
                                          'image.')
            removes.append(current.pop(index))
        else:
            policy.set_location()
            value = change['value']
            if index is not None or not isinstance(value, list):
                raise exception.BadRequest('Locations are replaced as a whole list: '
                                           '"path": "/locations", "value": [...].')
            entries = [_entry(v) for v in value]
            if not current and not adds:
                for entry in entries:
                    adds.append(_plan_add(context, image, entry, adds))
                continue
            if not entries and image['status'] == 'active':
                raise exception.Forbidden('Cannot remove the last location of an active '
                                          'image.')
            urls = [loc['url'] for loc in current] + [p['url'] for p in adds]
            if [e['url'] for e in entries] != urls:
                raise exception.BadRequest('Cannot replace locations from a non-empty list '
                                           'to a non-empty list: only their metadata can '
                                           'change.')
            for entry, loc in zip(entries, current):
                metadata[loc['id']] = _metadata(entry.get('metadata'),
                                                loc['metadata'].get('store'))
            for entry, planned in zip(entries[len(current):], adds):
                planned['metadata'] = _metadata(entry.get('metadata'),
                                                planned['metadata']['store'])
    return {'context': context, 'image': image, 'adds': adds, 'removes': removes,
            'metadata': metadata}


def apply(planned_changes):
    """Do what ``plan`` checked; returns the image, or None when nothing changed."""
    context, image = planned_changes['context'], planned_changes['image']
    adds, removes = planned_changes['adds'], planned_changes['removes']
    metadata = planned_changes['metadata']
    image_id = image['id']
    changed = None
    if metadata:
        changed = db_api.image_location_update_metadata(image_id, metadata)
    for location in removes:
        locations.delete_location(image, location)
        LOG.info('Image %s: a location in store %s was removed by project %s', image_id,
                 location['metadata'].get('store'), context.project_id)
    if removes:
        cache_coherence.invalidate(image_id)
        changed = db_api.image_get(image_id)
    for planned in adds:
        location = {'url': planned['url'], 'metadata': planned['metadata']}
        if image['status'] == 'queued':
            # as upstream: active at once, with the hashes the caller gave
            image = changed = db_api.image_activate(image_id, planned['values'], location,
                                                    from_state='queued')
            notifier.image_event(context, 'image.activate', image)
        else:
            db_api.image_location_add(image_id, location['url'], location['metadata'])
            changed = db_api.image_get(image_id)
        LOG.info('Image %s: location in store %s registered by project %s', image_id,
                 location['metadata']['store'], context.project_id)
    if changed is not None:
        notifier.image_event(context, 'image.update', changed)
    return changed
