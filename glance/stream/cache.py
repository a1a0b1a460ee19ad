"""glance-stream's image cache: whole images on local disk, filled once, verified, bounded.

Layout under ``[cache] directory``::

    index.sqlite     what is cached (size, hash, hits, last access, eviction priority), the
                     prefetch queue and the counters; shared by every worker of the node
    data/<id>        committed images: complete and verified, read-only (mode 0444)
    incomplete/<id>  the image being filled
    locks/<id>       held (flock) by the one process filling the image

A miss takes the image's fill lock (non-blocking). The winner reserves the image's size,
evicting images chosen by the eviction policy (``[cache] eviction_policy``) until the image
fits both ``max_size`` and the free space of the filesystem, and starts a fill in its own
green thread: one verified read of the store (glance.store.reader.open_verified), written to
``incomplete/<id>``; when the whole image is there, the file is made read-only (the mark
that it was verified) and renamed into ``data/``. Every reader, the winner's included,
follows the growing file. For an image with a piece map every byte is verified before it is
written, so readers take what is there; for one verified by its multihash alone, they hold
the last byte back until the mark is set, so nobody sees a clean end of unverified data. A
herd of requests costs one store read.

Faults degrade, never fail: if the fill stops (the store, ENOSPC, EIO...), its followers read
the rest of their range straight from the store, still verified; if the cache itself fails
(a missing directory, a broken index, a full disk), the request is served from the store,
the cache reports itself degraded (metrics, ``GET /cache``, ``/healthcheck``) and heals
itself, re-creating what it needs, once the disk allows. Evicting an entry while readers
stream it does not cut them: they hold the file open.

Hits take no write lock: they (and the counters) are kept in memory and written to the index
at most once a second, in a native thread.
"""

import contextlib
import errno
import fcntl
import hashlib
import os
import sqlite3
import stat
import time

import eventlet
from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception
from glance.common import native
from glance.common import pieces
from glance.common import wsgi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

cache_opts = [
    cfg.StrOpt('directory',
               help='Directory of the image cache. Unset: no cache (every read goes to the '
                    'backend). The cache filter can also be removed from the paste '
                    'pipeline.'),
    cfg.IntOpt('max_size', default=10 * units.Gi, min=1,
               help='Most bytes of image data the cache keeps. Images are evicted (see '
                    'eviction_policy) before a new one is admitted.'),
    cfg.IntOpt('min_free_space', default=256 * units.Mi, min=0,
               help='Bytes the cache leaves free on its filesystem, whatever max_size says: '
                    'a fill that would leave less evicts more or is not cached.'),
    cfg.FloatOpt('max_image_share', default=0.5, min=0.01, max=1.0,
                 help='An image larger than this share of max_size is streamed without '
                      'being cached.'),
    cfg.StrOpt('eviction_policy', default='lru', choices=[
        ('lru', 'evict the least recently used image first'),
        ('gdsf', 'Greedy-Dual-Size-Frequency: evict images that are rarely read per byte '
                 'they occupy first, with ageing (keeps small popular images)')],
        help='Which images make room for a new one.'),
    cfg.FloatOpt('follow_poll_interval', default=0.005, min=0.001,
                 help='Seconds a reader waits before looking again for bytes that the fill '
                      'has not written yet.'),
    cfg.IntOpt('prefetch_interval', default=5, min=1,
               help='Seconds between two looks at the prefetch queue.'),
    cfg.IntOpt('scrub_interval', default=86400, min=0,
               help='Seconds between two scrubs, which re-verify every cached file piece by '
                    'piece and evict the ones that changed on disk. 0: only on demand '
                    '(glance-manage cache verify).'),
    cfg.IntOpt('heal_interval', default=5, min=1,
               help='Seconds a degraded cache waits before it tries again to re-create its '
                    'directory and index.'),
    cfg.IntOpt('metrics_log_interval', default=300, min=0,
               help='Seconds between two log lines with the cache counters (hits, misses, '
                    'followers, bytes from cache and backend, evictions, verification '
                    'failures, fallbacks), written only when they changed. 0: never.'),
]
CONF.register_opts(cache_opts, group='cache')

_CHUNK = units.Mi
_COUNTERS = ('hits', 'misses', 'followers', 'bytes_from_cache', 'bytes_from_backend',
             'evictions', 'verification_failures', 'bypasses', 'fills', 'fallbacks',
             'degraded_events', 'scrubbed')
_VERIFIED_MODE = 0o444
_CACHE_ERRORS = (OSError, sqlite3.Error)


class CacheFillFailed(exception.ImageDataCorrupt):
    """The fill this reader followed did not commit."""


class CacheUnavailable(exception.ServiceUnavailable):
    """The cache cannot be used right now (degraded): serve from the store."""


class LRU:
    """Least recently used first."""

    name = 'lru'
    order = 'last_accessed'

    @staticmethod
    def priority(clock, hits, size, last_accessed):
        return last_accessed


class GDSF:
    """Greedy-Dual-Size-Frequency: priority = clock + hits / size (in MiB).

    The lowest priority goes first; evicting an entry advances the clock to its priority,
    so entries not read for a while age out whatever their past popularity.
    """

    name = 'gdsf'
    order = 'priority'

    @staticmethod
    def priority(clock, hits, size, last_accessed):
        return clock + (hits + 1) / max(size / units.Mi, 1e-3)


POLICIES = {policy.name: policy for policy in (LRU, GDSF)}


class ImageCache:

    def __init__(self, directory, max_size, max_image_share=0.5, poll_interval=0.005,
                 policy='lru', min_free_space=0, heal_interval=5):
        self.directory = directory
        self.max_size = max_size
        self.max_image_share = max_image_share
        self.poll_interval = poll_interval
        self.policy = POLICIES[policy]
        self.min_free_space = min_free_space
        self.heal_interval = heal_interval
        self._db_path = os.path.join(directory, 'index.sqlite')
        self.degraded = None  # the reason, while the cache cannot be used
        self._ready = False
        self._last_heal = 0.0
        self._pending_hits = {}  # image id -> [hits, last access], not yet in the index
        self._pending_counts = {}  # counter -> increment, not yet in the index
        self._flushing = False
        self._last_flush = time.monotonic()
        self.ensure_ready()

    @classmethod
    def from_conf(cls, conf=CONF):
        if not conf.cache.directory:
            return None
        return cls(conf.cache.directory, conf.cache.max_size, conf.cache.max_image_share,
                   conf.cache.follow_poll_interval, conf.cache.eviction_policy,
                   conf.cache.min_free_space, conf.cache.heal_interval)

    _shared = {}

    @classmethod
    def shared(cls, conf=CONF):
        """This process's cache object for the configured directory.

        The filter, the admin app and the background work of one worker share it: one
        degraded state, one hit buffer.
        """
        if not conf.cache.directory:
            return None
        key = (conf.cache.directory, os.getpid())
        if key not in cls._shared:
            cls._shared[key] = cls.from_conf(conf)
        return cls._shared[key]

    # --- health ---------------------------------------------------------------------------

    def ensure_ready(self):
        """Create the layout and the index if needed; False (degraded) if the disk refuses."""
        if self._ready and self.degraded is None:
            return True
        now = time.monotonic()
        if self.degraded is not None and now - self._last_heal < self.heal_interval:
            return False
        self._last_heal = now
        try:
            for sub in ('data', 'incomplete', 'locks'):
                os.makedirs(os.path.join(self.directory, sub), exist_ok=True)
            try:
                self._create_index()
            except sqlite3.DatabaseError as e:
                if isinstance(e, sqlite3.OperationalError):
                    raise  # locked, or the disk: not the index's own fault
                self._replace_broken_index(e)
            problem = self.probe()
        except _CACHE_ERRORS as e:
            problem = _describe(e)
        if problem is not None:
            self._degrade(problem)
            return False
        if self.degraded is not None:
            LOG.warning('Image cache %s healed (was degraded: %s)', self.directory,
                        self.degraded)
        self.degraded = None
        self._ready = True
        return True

    def _create_index(self):
        db = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        try:
            db.execute('PRAGMA journal_mode=WAL')
            db.executescript('''
                CREATE TABLE IF NOT EXISTS entries (
                    image_id TEXT PRIMARY KEY, hash TEXT, size INTEGER NOT NULL,
                    state TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0,
                    last_accessed REAL NOT NULL, created REAL NOT NULL,
                    priority REAL NOT NULL DEFAULT 0);
                CREATE TABLE IF NOT EXISTS queue (
                    image_id TEXT PRIMARY KEY, queued_at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS counters (
                    name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS state (
                    name TEXT PRIMARY KEY, value REAL NOT NULL);
            ''')
            columns = {row[1] for row in db.execute('PRAGMA table_info(entries)')}
            if 'priority' not in columns:  # an index written by an older release
                db.execute('ALTER TABLE entries ADD COLUMN priority REAL NOT NULL DEFAULT 0')
            for name in _COUNTERS:
                db.execute('INSERT OR IGNORE INTO counters VALUES (?, 0)', (name,))
            db.execute("INSERT OR IGNORE INTO state VALUES ('clock', 0)")
        finally:
            db.close()

    def _replace_broken_index(self, error):
        """Set a corrupt index aside and start a new one; files it no longer lists go."""
        aside = '%s.broken-%d' % (self._db_path, time.time())
        LOG.error('Image cache index %s is unreadable (%s); moved to %s and rebuilt empty',
                  self._db_path, error, aside)
        os.rename(self._db_path, aside)
        for suffix in ('-wal', '-shm'):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._db_path + suffix)
        self._create_index()
        self._cleanup()

    def probe(self):
        """None if the cache directory is usable now, else what is wrong (a sentence)."""
        for sub in ('data', 'incomplete', 'locks'):
            if not os.path.isdir(os.path.join(self.directory, sub)):
                return 'the directory %s is missing' % os.path.join(self.directory, sub)
        if not os.access(os.path.join(self.directory, 'incomplete'), os.W_OK):
            return 'the cache directory is not writable'
        if not os.path.exists(self._db_path):
            return 'the cache index is missing'
        if self._free_space() < self.min_free_space:
            return 'the cache filesystem has less than %d bytes free' % self.min_free_space
        return None

    def _degrade(self, reason):
        if self.degraded is None:
            LOG.error('Image cache %s is degraded (serving from the stores until it heals): '
                      '%s', self.directory, reason)
            with contextlib.suppress(*_CACHE_ERRORS):
                self._count(degraded_events=1)
        self.degraded = reason
        self._ready = False
        self._last_heal = time.monotonic()

    @contextlib.contextmanager
    def _guard(self):
        """Cache errors in the block degrade the cache and raise CacheUnavailable."""
        if not self.ensure_ready():
            raise CacheUnavailable(reason='the image cache is degraded: %s' % self.degraded)
        try:
            yield
        except _CACHE_ERRORS as e:
            self._degrade(_describe(e))
            raise CacheUnavailable(reason='the image cache is degraded: %s' % self.degraded)

    def _free_space(self):
        st = os.statvfs(self.directory)
        return st.f_bavail * st.f_frsize

    # --- index ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _db(self):
        db = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        try:
            # WAL with NORMAL: a commit is not an fsync. A crash may lose the last commits
            # (hit counts, an entry just added); cleanup_at_start drops files without an
            # entry, so the index never points at what is not there.
            db.execute('PRAGMA synchronous=NORMAL')
            db.execute('BEGIN IMMEDIATE')
            yield db
            db.execute('COMMIT')
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute('ROLLBACK')
            raise
        finally:
            db.close()

    @contextlib.contextmanager
    def _read(self):
        """A read-only look at the index: no write lock, no transaction to commit."""
        db = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def _count(self, db=None, **increments):
        """Add to the counters: in this transaction, or else in memory until the next flush.

        A request must not take the index's write lock just to count itself.
        """
        if db is None:
            for name, value in increments.items():
                self._pending_counts[name] = self._pending_counts.get(name, 0) + value
            self._maybe_flush()
            return
        for name, value in increments.items():
            db.execute('UPDATE counters SET value = value + ? WHERE name = ?', (value, name))

    def _path(self, kind, image_id):
        if '/' in image_id or image_id in ('.', '..'):
            raise exception.BadRequest('Invalid image id')
        return os.path.join(self.directory, kind, image_id)

    def cleanup_at_start(self):
        """Drop partial fills nobody is filling any more, and entries without a file.

        Safe while other workers fill: a fill whose lock is held is left alone. Run by the
        node's background work, once per host.
        """
        with self._guard():
            self._cleanup()

    def _cleanup(self):
        for name in os.listdir(os.path.join(self.directory, 'incomplete')):
            lock = self._try_lock(name)
            if lock is None:
                continue
            try:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.directory, 'incomplete', name))
                with self._db() as db:
                    db.execute("DELETE FROM entries WHERE image_id = ? AND state != 'ready'",
                               (name,))
            finally:
                _unlock(lock)
        with self._db() as db:
            for (image_id,) in db.execute("SELECT image_id FROM entries "
                                          "WHERE state != 'ready'").fetchall():
                if not self._fill_running(image_id):
                    db.execute('DELETE FROM entries WHERE image_id = ?', (image_id,))
            for (image_id,) in db.execute('SELECT image_id FROM entries').fetchall():
                if not os.path.exists(self._path('data', image_id)):
                    db.execute('DELETE FROM entries WHERE image_id = ?', (image_id,))
            known = {row[0] for row in db.execute('SELECT image_id FROM entries')}
        for name in os.listdir(os.path.join(self.directory, 'data')):
            if name not in known:
                os.unlink(os.path.join(self.directory, 'data', name))

    # --- hits -----------------------------------------------------------------------------

    def _note_hit(self, image_id, nbytes):
        entry = self._pending_hits.setdefault(image_id, [0, 0.0])
        entry[0] += 1
        entry[1] = time.time()
        self._pending_counts['hits'] = self._pending_counts.get('hits', 0) + 1
        self._pending_counts['bytes_from_cache'] = (
            self._pending_counts.get('bytes_from_cache', 0) + nbytes)
        self._maybe_flush()

    def _maybe_flush(self):
        if not self._flushing and time.monotonic() - self._last_flush >= 1.0:
            self._flushing = True
            eventlet.spawn_n(self._flush_in_thread)

    def _take_pending(self):
        """What is counted in memory, handed over (in the green thread that counts)."""
        hits, self._pending_hits = self._pending_hits, {}
        counts, self._pending_counts = self._pending_counts, {}
        self._last_flush = time.monotonic()
        return hits, counts

    def _flush_in_thread(self):
        try:
            tpool.execute(self._write_pending, *self._take_pending())
        except _CACHE_ERRORS as e:
            LOG.warning('Could not record cache hits: %s', _describe(e))
        finally:
            self._flushing = False

    def flush_hits(self):
        """Write the hits and counters kept in memory to the index (one transaction)."""
        self._write_pending(*self._take_pending())

    def _write_pending(self, hits, counts):
        if not hits and not counts:
            return
        with self._db() as db:
            clock = self._clock(db)
            for image_id, (count, last_accessed) in hits.items():
                row = db.execute('SELECT hits, size FROM entries WHERE image_id = ?',
                                 (image_id,)).fetchone()
                if row is None:
                    continue
                priority = self.policy.priority(clock, row[0] + count, row[1], last_accessed)
                db.execute('UPDATE entries SET hits = hits + ?, last_accessed = ?, '
                           'priority = ? WHERE image_id = ?',
                           (count, last_accessed, priority, image_id))
            self._count(db, **counts)

    @staticmethod
    def _clock(db):
        row = db.execute("SELECT value FROM state WHERE name = 'clock'").fetchone()
        return row[0] if row else 0.0

    # --- reading --------------------------------------------------------------------------

    def lookup(self, image, nbytes=0):
        """The committed file's path if the image is cached with this hash (a hit).

        Read-only: the hit (and ``nbytes`` served) is counted in memory.
        """
        with self._read() as db:
            row = db.execute("SELECT hash FROM entries WHERE image_id = ? AND "
                             "state = 'ready'", (image['id'],)).fetchone()
        if row is None:
            return None
        if row[0] != image['os_hash_value']:
            with self._db() as db:
                self._evict_locked(db, image['id'])  # stale: the image is not this one
            return None
        path = self._path('data', image['id'])
        if not os.path.exists(path):
            return None
        self._note_hit(image['id'], nbytes)
        return path

    def cacheable(self, image):
        return bool(image.get('size') is not None and image.get('os_hash_value')
                    and image['size'] <= self.max_size * self.max_image_share)

    def read(self, image, open_verified, start=0, end=None, fallback=None,
             verified_as_written=False, zero_copy=False):
        """Bytes start..end of the image through the cache: (source, iterator).

        ``source`` is 'hit', 'fill' (this request started the fill), 'follow' or 'bypass'
        (iterator None: the caller reads the store itself). ``open_verified(image)``
        returns the whole image's chunks, verified; the fill is done with each chunk before
        it asks for the next, so they may be views of buffers used again.
        ``fallback(start, end)`` reads a range from the store, verified: a follower whose
        fill stops finishes with it.
        ``verified_as_written``: every byte the fill writes was verified before (the image
        has a piece map), so readers need not hold the last byte back until the whole
        file is verified and synced. ``zero_copy``: the server sends file ranges with
        sendfile (glance.common.wsgi.ZeroCopy), so a follower's body is a SliceBody whose
        parts are ranges of the file being filled, not bytes read from it. Raises
        CacheUnavailable when the cache is degraded.
        """
        end = image['size'] - 1 if end is None else end
        with self._guard():
            path = self.lookup(image, end - start + 1)
            if path is not None:
                try:
                    return 'hit', FileRange(path, start, end)
                except FileNotFoundError:
                    pass  # evicted since the look: a miss
            if not self.cacheable(image):
                self._count(bypasses=1)
                return 'bypass', None
            source = 'follow'
            lock = self._try_lock(image['id'])
            if lock is not None:
                try:
                    if self.lookup(image) is not None:  # committed while we took the lock
                        _unlock(lock)
                        return self.read(image, open_verified, start, end, fallback,
                                         verified_as_written, zero_copy)
                    if not self._reserve(image):
                        _unlock(lock)
                        self._count(bypasses=1)
                        return 'bypass', None
                    self._count(misses=1, fills=1)
                    incomplete = self._path('incomplete', image['id'])
                    open(incomplete, 'wb').close()  # followers wait for this file to exist
                except BaseException:
                    _unlock(lock)
                    raise
                eventlet.spawn_n(self._fill, image, open_verified, lock, incomplete)
                source = 'fill'
            else:
                self._count(followers=1)
            self._count(bytes_from_cache=end - start + 1)
        follow = self._follow(image, start, end, fallback, holdback=not verified_as_written,
                              zero_copy=zero_copy)
        return source, wsgi.SliceBody(follow) if zero_copy else follow

    def _try_lock(self, image_id):
        fd = os.open(self._path('locks', image_id), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                return None
            raise
        return fd

    def _fill_running(self, image_id):
        lock = self._try_lock(image_id)
        if lock is None:
            return True
        _unlock(lock)
        return False

    def _reserve(self, image):
        """Make room for the image and record the fill; False if there is no room.

        Room means both: the cache stays under max_size, and the filesystem keeps
        min_free_space free (a disk smaller than max_size, or shared with others).
        """
        self.flush_hits()
        size = image['size']
        with self._db() as db:
            used = db.execute('SELECT COALESCE(SUM(size), 0) FROM entries').fetchone()[0]
            free = self._free_space()
            victims = db.execute("SELECT image_id, size, priority FROM entries "
                                 "WHERE state = 'ready' ORDER BY %s" % self.policy.order
                                 ).fetchall()
            while ((used + size > self.max_size or free - size < self.min_free_space)
                   and victims):
                victim, victim_size, priority = victims.pop(0)
                self._evict_locked(db, victim)
                if self.policy is GDSF:
                    db.execute("UPDATE state SET value = ? WHERE name = 'clock'", (priority,))
                used -= victim_size
                free += victim_size
            if used + size > self.max_size or free - size < self.min_free_space:
                return False
            now = time.time()
            priority = self.policy.priority(self._clock(db), 0, size, now)
            db.execute("INSERT OR REPLACE INTO entries VALUES "
                       "(?, ?, ?, 'filling', 0, ?, ?, ?)",
                       (image['id'], image['os_hash_value'], size, now, now, priority))
            return True

    def _evict_locked(self, db, image_id):
        db.execute('DELETE FROM entries WHERE image_id = ?', (image_id,))
        try:
            # Readers streaming the file keep their descriptor: unlinking does not cut them.
            os.unlink(self._path('data', image_id))
        except FileNotFoundError:
            pass
        self._count(db, evictions=1)

    def _fill(self, image, open_verified, lock, incomplete):
        """The one store read: write the verified bytes, mark, commit (rename) or discard."""
        written = 0
        try:
            with open(incomplete, 'wb', buffering=0) as f:  # followers read what is written
                for chunk in open_verified(image):
                    # in a native thread: off the hub, which serves the followers
                    tpool.execute(native.write_all, f.fileno(), chunk)
                    written += len(chunk)
                if written != image['size']:
                    raise CacheFillFailed(image_id=image['id'])
                # in a native thread: flushing a GiB to disk takes a while, and this
                # process's other clients must not wait for it
                tpool.execute(os.fsync, f.fileno())
                os.fchmod(f.fileno(), _VERIFIED_MODE)  # the mark: complete and verified
            os.rename(incomplete, self._path('data', image['id']))
            with self._db() as db:
                db.execute("UPDATE entries SET state = 'ready', last_accessed = ? "
                           "WHERE image_id = ?", (time.time(), image['id']))
                self._count(db, bytes_from_backend=written)
            LOG.info('Cached image %s (%d bytes)', image['id'], written)
        except Exception as e:
            if isinstance(e, exception.ImageDataCorrupt):
                with contextlib.suppress(*_CACHE_ERRORS):
                    self._count(verification_failures=1)
                LOG.error('Cache fill of image %s stopped: its data is corrupt in the '
                          'store; nothing was cached', image['id'])
            elif isinstance(e, _CACHE_ERRORS):
                self._degrade(_describe(e))
                LOG.error('Cache fill of image %s failed: %s', image['id'], _describe(e))
            else:
                LOG.error('Cache fill of image %s failed: %s', image['id'], e)
            with contextlib.suppress(*_CACHE_ERRORS):
                os.unlink(incomplete)
            with contextlib.suppress(*_CACHE_ERRORS):
                with self._db() as db:
                    db.execute("DELETE FROM entries WHERE image_id = ? AND "
                               "state = 'filling'", (image['id'],))
        finally:
            _unlock(lock)

    def _follow(self, image, start, end, fallback=None, holdback=True, zero_copy=False):
        """Read start..end from the file being filled, waiting for bytes as they come.

        With ``holdback``, the final byte of the range is held back until the file carries
        the verified mark. With ``zero_copy``, what is there is handed out as FileSlices of
        the open file (sent with sendfile before this resumes) instead of bytes.
        If the fill stops, the rest of the range comes from ``fallback`` (the store,
        verified); without one, the transfer is cut.
        """
        image_id = image['id']
        position = start
        fd = None
        try:
            fd = self._open_fill(image_id)
            while position <= end:
                info = os.fstat(fd)
                verified = stat.S_IMODE(info.st_mode) == _VERIFIED_MODE
                limit = min(end + 1, info.st_size)
                if not verified and holdback:
                    limit = min(limit, end)
                if position < limit and zero_copy:
                    yield wsgi.FileSlice(fd, position, limit - position)
                    position = limit
                    continue
                if position < limit:
                    data = os.pread(fd, min(limit - position, _CHUNK), position)
                    if data:
                        position += len(data)
                        yield data
                        continue
                if not verified and not self._still_filling(image_id, fd):
                    if stat.S_IMODE(os.fstat(fd).st_mode) == _VERIFIED_MODE:
                        continue  # marked between the two looks
                    raise CacheFillFailed(image_id=image_id)
                eventlet.sleep(self.poll_interval)
        except (CacheFillFailed, *_CACHE_ERRORS) as e:
            if fallback is None:
                raise CacheFillFailed(image_id=image_id)
            LOG.warning('Image %s: the cache fill stopped (%s); reading bytes %d-%d from the '
                        'store', image_id, _describe(e), position, end)
            with contextlib.suppress(*_CACHE_ERRORS):
                self._count(fallbacks=1)
            yield from fallback(position, end)
        finally:
            if fd is not None:
                os.close(fd)

    def _open_fill(self, image_id):
        """A descriptor on the image's fill (or committed) file, once it exists."""
        deadline = time.monotonic() + 30
        while True:
            for kind in ('incomplete', 'data'):
                try:
                    return os.open(self._path(kind, image_id), os.O_RDONLY)
                except FileNotFoundError:
                    continue
            if time.monotonic() > deadline or not self._fill_running(image_id):
                raise CacheFillFailed(image_id=image_id)
            eventlet.sleep(self.poll_interval)

    def _still_filling(self, image_id, fd):
        """True while a fill holds the lock and still writes the file ``fd`` reads."""
        inode = os.fstat(fd).st_ino
        try:
            same = os.stat(self._path('incomplete', image_id)).st_ino == inode
        except FileNotFoundError:
            same = False
        return same and self._fill_running(image_id)

    # --- management -----------------------------------------------------------------------

    def list(self):
        with self._guard():
            self.flush_hits()
            with self._db() as db:
                cached = [{'image_id': r[0], 'size': r[1], 'hits': r[2],
                           'last_accessed': r[3], 'last_modified': r[4]}
                          for r in db.execute("SELECT image_id, size, hits, last_accessed, "
                                              "created FROM entries WHERE state = 'ready' "
                                              "ORDER BY last_accessed DESC")]
                filling = [{'image_id': r[0], 'size': r[1]} for r in db.execute(
                    "SELECT image_id, size FROM entries WHERE state = 'filling'")]
                queued = [r[0] for r in db.execute('SELECT image_id FROM queue '
                                                   'ORDER BY queued_at')]
        for entry in filling:
            try:
                entry['bytes'] = os.path.getsize(self._path('incomplete', entry['image_id']))
            except OSError:
                entry['bytes'] = 0
        return {'cached_images': cached, 'queued_images': queued, 'filling_images': filling}

    def used(self):
        with self._guard(), self._db() as db:
            return db.execute('SELECT COALESCE(SUM(size), 0) FROM entries').fetchone()[0]

    def status(self, image_id):
        """{'image_id', 'state': cached|filling|queued|absent, and for cached: path, hash}."""
        path = self._path('data', image_id)
        with self._guard(), self._db() as db:
            row = db.execute('SELECT state, hash, size FROM entries WHERE image_id = ?',
                             (image_id,)).fetchone()
            queued = db.execute('SELECT 1 FROM queue WHERE image_id = ?',
                                (image_id,)).fetchone()
        result = {'image_id': image_id, 'state': 'absent'}
        if row is not None and row[0] == 'ready' and os.path.exists(path):
            result.update(state='cached', path=os.path.abspath(path), hash=row[1], size=row[2])
        elif row is not None and row[0] == 'filling':
            result['state'] = 'filling'
        elif queued:
            result['state'] = 'queued'
        return result

    def queue(self, image_id):
        self._path('data', image_id)
        with self._guard(), self._db() as db:
            db.execute('INSERT OR IGNORE INTO queue VALUES (?, ?)', (image_id, time.time()))

    def next_queued(self):
        """Claim the oldest queued image id (removing it from the queue), or None."""
        with self._guard(), self._db() as db:
            row = db.execute('SELECT image_id FROM queue ORDER BY queued_at LIMIT 1').fetchone()
            if row is not None:
                db.execute('DELETE FROM queue WHERE image_id = ?', (row[0],))
            return row[0] if row else None

    def prefetch(self, image, open_verified):
        """Fill the cache with an image without a client; waits for the fill to end."""
        source, chunks = self.read(image, open_verified)
        if chunks is None:
            return source
        for _ in chunks:
            pass
        return source

    def evict(self, image_id):
        with self._guard(), self._db() as db:
            row = db.execute("SELECT 1 FROM entries WHERE image_id = ? AND state = 'ready'",
                             (image_id,)).fetchone()
            db.execute('DELETE FROM queue WHERE image_id = ?', (image_id,))
            if row is None:
                return False
            self._evict_locked(db, image_id)
            return True

    def clear(self, target='both'):
        cleared = {'cache': 0, 'queue': 0}
        with self._guard(), self._db() as db:
            if target in ('cache', 'both'):
                for (image_id,) in db.execute("SELECT image_id FROM entries "
                                              "WHERE state = 'ready'").fetchall():
                    self._evict_locked(db, image_id)
                    cleared['cache'] += 1
            if target in ('queue', 'both'):
                cleared['queue'] = db.execute('DELETE FROM queue').rowcount
        return cleared

    def prune(self, max_size=None):
        """Evict images (eviction policy order) until the cache holds at most max_size."""
        limit = self.max_size if max_size is None else max_size
        evicted = 0
        with self._guard():
            self.flush_hits()
            with self._db() as db:
                used = db.execute('SELECT COALESCE(SUM(size), 0) FROM entries').fetchone()[0]
                for image_id, size in db.execute(
                        "SELECT image_id, size FROM entries WHERE state = 'ready' "
                        "ORDER BY %s" % self.policy.order).fetchall():
                    if used <= limit:
                        break
                    self._evict_locked(db, image_id)
                    used -= size
                    evicted += 1
        return {'evicted': evicted, 'size': used}

    def scrub(self, load_image):
        """Re-verify every cached file, piece by piece; evict those that do not match.

        ``load_image(image_id)`` gives the image dict (with its piece map, see
        glance.store.reader.piece_map) or raises NotFound. Returns {'checked', 'bad'}.
        """
        bad, checked = [], 0
        for entry in self.list()['cached_images']:
            image_id = entry['image_id']
            checked += 1
            try:
                image = load_image(image_id)
                good = tpool.execute(self._file_matches, image)
            except (OSError, exception.NotFound) as e:
                LOG.warning('Scrub: cached image %s cannot be checked (%s)', image_id, e)
                good = False
            if not good:
                LOG.error('Cached copy of image %s does not match its hashes; evicted',
                          image_id)
                self._count(verification_failures=1)
                self.evict(image_id)
                bad.append(image_id)
        self._count(scrubbed=checked)
        return {'checked': checked, 'bad': bad}

    def _file_matches(self, image):
        """True if the cached file is the image's bytes (its piece map, else its hash)."""
        path = self._path('data', image['id'])
        pmap = image.get('piece_map')
        with open(path, 'rb') as f:
            if os.fstat(f.fileno()).st_size != image['size']:
                return False
            if pmap is not None:
                for index in range(pmap.count):
                    start, end = pmap.span(index)
                    if not pmap.matches(index, os.pread(f.fileno(), end - start, start)):
                        LOG.error('Cached copy of image %s: piece %d (bytes %d-%d) is '
                                  'corrupt', image['id'], index, start, end - 1)
                        return False
                return True
            hasher = hashlib.new(image['os_hash_algo'])
            for chunk in iter(lambda: f.read(pieces.CONF.piece_size), b''):
                hasher.update(chunk)
            return hasher.hexdigest() == image['os_hash_value']

    def metrics(self):
        values = dict.fromkeys(_COUNTERS, 0)
        values.update(images=0, size=0)
        try:
            with self._guard():
                self.flush_hits()
                with self._read() as db:
                    values.update(dict(db.execute('SELECT name, value FROM counters')))
                    values['size'] = db.execute(
                        "SELECT COALESCE(SUM(size), 0) FROM entries WHERE state = 'ready'"
                    ).fetchone()[0]
                    values['images'] = db.execute("SELECT COUNT(*) FROM entries "
                                                  "WHERE state = 'ready'").fetchone()[0]
        except CacheUnavailable:
            pass
        values['max_size'] = self.max_size
        values['degraded'] = 1 if self.degraded else 0
        values['eviction_policy'] = self.policy.name
        if self.degraded:
            values['degraded_reason'] = self.degraded
        return values


class FileRange:
    """A byte range of a committed cache file.

    Iterable, and sendfile-able by the eventlet server (glance.common.wsgi.ZeroCopy). The
    descriptor is opened at once: an eviction after that does not cut the transfer.
    """

    def __init__(self, path, start, end):
        self.fd = os.open(path, os.O_RDONLY)
        self.offset = start
        self.length = end - start + 1

    @property
    def sendfile_fd(self):
        return self.fd

    @property
    def sendfile_offset(self):
        return self.offset

    @property
    def sendfile_length(self):
        return self.length

    def __iter__(self):
        position, remaining = self.offset, self.length
        try:
            while remaining > 0:
                data = os.pread(self.fd, min(remaining, _CHUNK), position)
                if not data:
                    raise exception.ImageDataCorrupt(image_id='(cached file)')
                position += len(data)
                remaining -= len(data)
                yield data
        finally:
            self.close()

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _describe(error):
    if isinstance(error, OSError) and error.errno:
        return '%s (%s)' % (os.strerror(error.errno), error.filename or 'cache')
    return '%s: %s' % (type(error).__name__, error)


def _unlock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def list_opts():
    return [('cache', cache_opts)]
