"""``glance-manage audit``: find where the database, the stores and the caches disagree.

Findings, by class:

* ``missing``: an active (or deactivated) image whose object is gone from a store;
* ``size``: an object whose size is not the image's; ``hash`` (with ``verify``): an image
  whose bytes, read through glance-stream (which verifies them and fills its cache), do not
  match its hashes;
* ``orphan``: an object in what glance owns in a store (glance.store.inventory) that no
  image references: a crash between data and metadata, a hand-made object;
* ``stale_cache``: a stream node's cache entry for a deleted, deactivated or unknown image;
* ``stuck``: an image in saving or importing with no progress for ``upload_stale_after``
  seconds, or in pending_delete long past ``scrub_time``.

``repair`` (glance-manage audit --repair --yes) acts on findings: removes orphans older
than ``audit_orphan_grace`` seconds, evicts stale cache entries, drops a dead location of an
image that has another copy, and marks an image with no data left ``killed``. It never
deletes an object a location references. Every action is logged at INFO with the image id.
"""

import collections
import datetime
import hashlib
import random
import time
import urllib.parse
import urllib.request

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import stream_client
from glance.common import stream_nodes
from glance.common import ticket
from glance.db import housekeeping as housekeeping_db
from glance.db import models
from glance.image import housekeeping_metrics
from glance.image import recovery  # noqa: F401  (upload_stale_after, scrub_time)
from glance.store import backend
from glance.store import inventory

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

audit_opts = [
    cfg.IntOpt('audit_orphan_grace', default=86400, min=0,
               help='Seconds an object must have existed before "glance-manage audit '
                    '--repair" deletes it as an orphan (an upload in progress is younger).'),
    cfg.IntOpt('audit_concurrency', default=4, min=1,
               help='Store requests "glance-manage audit" makes at once (--concurrency '
                    'overrides it).'),
]
CONF.register_opts(audit_opts)

Finding = collections.namedtuple('Finding', 'kind image_id store detail target')
# target: what a repair acts on (a StoreObject, (endpoint, image id), a location...)

_LIVE = ('active', 'deactivated')


class _Rate:
    """At most ``per_second`` calls of ``wait()`` a second (None: no bound)."""

    def __init__(self, per_second):
        self.interval = 1.0 / per_second if per_second else 0
        self.next = time.monotonic()

    def wait(self):
        if not self.interval:
            return
        now = time.monotonic()
        if self.next > now:
            eventlet.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


class _Progress:
    """tqdm on a terminal; otherwise a plain line every ``every`` items."""

    def __init__(self, stream, label, total=None, every=500):
        self.stream, self.label, self.count, self.every = stream, label, 0, every
        self.bar = None
        if stream is not None and stream.isatty():
            import tqdm
            self.bar = tqdm.tqdm(total=total, desc=label, file=stream, unit='item')

    def update(self, n=1):
        self.count += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.stream is not None and self.count % self.every == 0:
            print('%s: %d checked' % (self.label, self.count), file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.stream is not None:
            print('%s: %d checked, done' % (self.label, self.count), file=self.stream,
                  flush=True)


class Audit:

    def __init__(self, stores=None, since=None, sample=None, verify=False, max_rate=None,
                 concurrency=None, progress=None):
        self.stores = stores or list(CONF.enabled_backends)
        self.since = since
        self.sample = sample
        self.verify = verify
        self.rate = _Rate(max_rate)
        self.pool = eventlet.GreenPool(concurrency or CONF.audit_concurrency)
        self.progress = progress
        self.findings = []
        self.errors = []  # (where, reason): parts the audit could not check
        self.checked = collections.Counter()
        self._inventories = {}

    def _inventory(self, store):
        if store not in self._inventories:
            try:
                self._inventories[store] = inventory.for_backend(store)
            except inventory.NotListable as e:
                self._inventories[store] = None
                self.errors.append((store, str(e)))
        return self._inventories[store]

    def _add(self, kind, image_id, store, detail, target=None):
        self.findings.append(Finding(kind, image_id, store, detail, target))

    # --- images --------------------------------------------------------------------------

    def _images(self):
        images = housekeeping_db.audit_images(self.since)
        if not self.sample:
            return images
        chosen = []  # reservoir: a uniform sample in one pass, bounded memory
        for n, image in enumerate(images):
            if n < self.sample:
                chosen.append(image)
            elif random.randrange(n + 1) < self.sample:
                chosen[random.randrange(self.sample)] = image
        return chosen

    def check_images(self):
        now = models.now()
        stale = datetime.timedelta(seconds=CONF.upload_stale_after)
        scrub_late = datetime.timedelta(seconds=CONF.scrub_time +
                                        3 * CONF.housekeeping_interval + 3600)
        progress = _Progress(self.progress, 'images')
        for image in self._images():
            progress.update()
            self.checked['images'] += 1
            status = image['status']
            last = image['updated_at'] or image['created_at']
            if status in ('saving', 'importing') and now - last > stale:
                self._add('stuck', image['id'], image['upload_store'],
                          '%s with no progress since %s' % (status, last.isoformat()))
            elif status == 'pending_delete' and now - (image['deleted_at'] or last) > scrub_late:
                self._add('stuck', image['id'], None, 'pending_delete since %s, long past '
                          'scrub_time' % (image['deleted_at'] or last).isoformat())
            if status in _LIVE and not image['deleted']:
                self.pool.spawn_n(self._check_image, image)
        self.pool.waitall()
        progress.close()

    def _check_image(self, image):
        live = [loc for loc in image['locations'] if loc['status'] == 'active']
        audited = [loc for loc in live if loc['metadata'].get('store') in self.stores]
        bad = []  # (location, kind, detail)
        for loc in audited:
            store = loc['metadata'].get('store')
            inv = self._inventory(store)
            if inv is None:
                continue
            self.rate.wait()
            try:
                size = inv.size_of(loc)
            except Exception as e:
                self.errors.append(
                    (store, 'image %s: %s' % (image['id'], type(e).__name__)))
                continue
            self.checked['objects'] += 1
            if size is None:
                bad.append((loc, 'missing', 'object missing'))
            elif image['size'] is not None and size != image['size']:
                bad.append((loc, 'size', 'object has %d bytes, image %d'
                            % (size, image['size'])))
        if bad:
            bad_ids = {loc['id'] for loc, _, _ in bad}
            survivors = [loc for loc in live if loc['id'] not in bad_ids]
            for loc, kind, detail in bad:
                detail += ('; a copy survives in store %s'
                           % survivors[0]['metadata'].get('store') if survivors
                           else '; no good copy left')
                self._add(kind, image['id'], loc['metadata'].get('store'), detail,
                          {'image': image, 'location': loc, 'last': not survivors})
            return
        if self.verify and image['status'] == 'active' and image['os_hash_value']:
            self._verify(image)

    def _verify(self, image):
        """Read the image through its glance-stream node, which verifies what it sends."""
        if not CONF.stream.endpoints:
            self.errors.append(('stream', 'no [stream] endpoints: --verify needs one'))
            return
        endpoint = stream_nodes.pick(image['id'])
        token = ticket.sign(image['id'], None, is_admin=True)
        url = '%s/v2/images/%s/file?%s' % (endpoint.rstrip('/'), image['id'],
                                           urllib.parse.urlencode({'ticket': token}))
        digest = hashlib.new(image['os_hash_algo'] or 'sha512')
        received = 0
        self.rate.wait()
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                for _ in range(10 ** 9):
                    chunk = resp.read(1024 * 1024)
                    if not chunk:
                        break
                    received += len(chunk)
                    digest.update(chunk)
        except Exception as e:
            self._add('hash', image['id'], None, 'read through %s failed verification (%s)'
                      % (endpoint, type(e).__name__))
            return
        self.checked['verified'] += 1
        if received != image['size'] or digest.hexdigest() != image['os_hash_value']:
            self._add('hash', image['id'], None, 'bytes read through %s do not match the '
                      'image\'s %s' % (endpoint, image['os_hash_algo']))

    # --- stores --------------------------------------------------------------------------

    def check_orphans(self):
        refs = housekeeping_db.referenced_objects()
        writing = {i['id'] for status in ('saving', 'importing')
                   for i in _in_status(status)}
        for store in self.stores:
            inv = self._inventory(store)
            if inv is None:
                continue
            # a location without a store in its metadata (older records) may be anywhere
            names = refs.get(store, set()) | refs.get(None, set())
            progress = _Progress(self.progress, 'store %s' % store)
            try:
                for obj in inv.list():
                    progress.update()
                    self.checked['listed'] += 1
                    if obj.image_id in names or obj.image_id in writing:
                        continue
                    if self.since and obj.modified and obj.modified < self.since:
                        continue
                    self._add('orphan', obj.image_id, store, '%s %s in %s (%s bytes, %s)' % (
                        obj.kind, obj.name, obj.where,
                        '?' if obj.size is None else obj.size,
                        obj.modified.isoformat() if obj.modified else 'age unknown'), obj)
            except Exception as e:
                self.errors.append((store, 'listing failed: %s' % type(e).__name__))
            progress.close()

    # --- caches --------------------------------------------------------------------------

    def check_caches(self):
        if not CONF.stream.endpoints:
            return
        for endpoint, result in sorted(stream_client.call_all('GET', '/cache').items()):
            if result is None or result[0] != 200:
                self.errors.append((endpoint, 'cache list unavailable'))
                continue
            entries = [e['image_id'] for e in result[1]['cached_images']]
            self.checked['cache entries'] += len(entries)
            states = housekeeping_db.image_states(entries)
            for image_id in entries:
                status, deleted = states.get(image_id, (None, None))
                if status is None:
                    why = 'unknown image'
                elif deleted or status != 'active':
                    why = 'image is %s' % ('deleted' if deleted and status == 'active'
                                           else status)
                else:
                    continue
                self._add('stale_cache', image_id, None, 'cached on %s: %s'
                          % (endpoint, why), (endpoint, image_id))

    def run(self):
        started = time.monotonic()
        backend.configure()
        self.check_images()
        self.check_orphans()
        self.check_caches()
        self.elapsed = time.monotonic() - started
        kinds = collections.Counter(f.kind for f in self.findings)
        housekeeping_metrics.add(audit_runs=1, **{'audit_drift_%s' % kind: n
                                                  for kind, n in kinds.items()})
        if self.findings:
            LOG.info('Audit found drift: %s', '; '.join(
                '%s: %s' % (kind, ', '.join(sorted({f.image_id or '-' for f in self.findings
                                                    if f.kind == kind})))
                for kind in sorted(kinds)))
        return self

    # --- repair --------------------------------------------------------------------------

    def repair(self, act=False):
        """The actions for the findings, done when ``act``; a list of (action, finding)."""
        actions = []
        grace = datetime.timedelta(seconds=CONF.audit_orphan_grace)
        now = models.now()
        refs = housekeeping_db.referenced_objects() if act else None
        for f in self.findings:
            if f.kind == 'orphan':
                if f.target.modified is None or now - f.target.modified < grace:
                    actions.append(('keep (younger than audit_orphan_grace)', f))
                    continue
                if act and f.image_id in (refs.get(f.store, set()) | refs.get(None, set())):
                    actions.append(('keep (referenced since the audit)', f))
                    continue
                action = 'delete %s %s from store %s' % (f.target.kind, f.target.name,
                                                         f.store)
                if act:
                    self._inventory(f.store).remove(f.target)
            elif f.kind == 'stale_cache':
                endpoint, image_id = f.target
                action = 'evict from the cache of %s' % endpoint
                if act:
                    status, _ = stream_client.call(endpoint, 'DELETE', '/cache/%s' % image_id)
                    if status not in (204, 404):
                        action += ' FAILED (HTTP %s)' % status
            elif f.kind in ('missing', 'size'):
                image, loc = f.target['image'], f.target['location']
                if f.target['last']:
                    action = 'mark image killed'
                    if act:
                        try:
                            housekeeping_db.image_kill(image['id'], image['status'])
                        except exception.Conflict as e:
                            action += ' SKIPPED (%s)' % e
                else:
                    action = ('drop the bad location (its object is left to the orphan '
                              'grace); the surviving copy serves the image')
                    if act:
                        housekeeping_db.location_drop(loc['id'])
            else:
                actions.append(('report only', f))
                continue
            if act:
                LOG.info('Audit repair: image %s: %s', f.image_id, action)
            actions.append((action, f))
        if act:
            done = [a for a, _ in actions if not a.startswith(('keep', 'report only'))]
            failed = [a for a in done if ' FAILED' in a or ' SKIPPED' in a]
            housekeeping_metrics.add(audit_repairs=len(done) - len(failed),
                                     audit_repair_failures=len(failed))
        return actions

    def drift(self):
        return bool(self.findings)


def _in_status(status):
    from glance.db import api as db_api
    return db_api.images_in_status(status)


def list_opts():
    return [(None, audit_opts)]
