"""glance-stream's image cache: whole images on local disk, filled once, verified, bounded.

Layout under ``[cache] directory``::

    index.sqlite     what is cached (size, hash, hits, last access), the prefetch queue and
                     the counters; shared by every worker of the node (WAL, busy timeout)
    data/<id>        committed images: complete and verified, never written again
    incomplete/<id>  the image being filled
    locks/<id>       held (flock) by the one process filling the image

A miss takes the image's fill lock (non-blocking). The winner reserves the image's size,
evicting least-recently-used images first so the cache never exceeds ``max_size``, and
starts a fill in its own green thread: one backend read, written to ``incomplete/<id>``,
hashed on the way, renamed into ``data/`` only if the multihash matches. Every reader, the
winner's included, follows the growing file; a reader that arrives while another process
fills does the same, so a herd of requests costs one backend read. A reader holds its last
bytes back until the fill is committed, so nobody sees a clean end of unverified data; if
the fill fails, the readers' transfers are cut.
"""

import contextlib
import errno
import fcntl
import hashlib
import os
import sqlite3
import time

import eventlet
from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import units

from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

cache_opts = [
    cfg.StrOpt('directory',
               help='Directory of the image cache. Unset: no cache (every read goes to the '
                    'backend).'),
    cfg.IntOpt('max_size', default=10 * units.Gi, min=1,
               help='Most bytes of image data the cache keeps. Least recently used images '
                    'are evicted before a new one is admitted.'),
    cfg.FloatOpt('max_image_share', default=0.5, min=0.01, max=1.0,
                 help='An image larger than this share of max_size is streamed without '
                      'being cached.'),
    cfg.FloatOpt('follow_poll_interval', default=0.005, min=0.001,
                 help='Seconds a reader waits before looking again for bytes that the fill '
                      'has not written yet.'),
    cfg.IntOpt('prefetch_interval', default=5, min=1,
               help='Seconds between two looks at the prefetch queue.'),
    cfg.IntOpt('metrics_log_interval', default=300, min=0,
               help='Seconds between two log lines with the cache counters (hits, misses, '
                    'followers, bytes from cache and backend, evictions, verification '
                    'failures), written only when they changed. 0: never.'),
]
CONF.register_opts(cache_opts, group='cache')

_CHUNK = units.Mi
_COUNTERS = ('hits', 'misses', 'followers', 'bytes_from_cache', 'bytes_from_backend',
             'evictions', 'verification_failures', 'bypasses', 'fills')


class CacheFillFailed(exception.ImageDataCorrupt):
    """The fill this reader followed did not commit: the transfer must be cut."""


class ImageCache:

    def __init__(self, directory, max_size, max_image_share=0.5, poll_interval=0.005):
        self.directory = directory
        self.max_size = max_size
        self.max_image_share = max_image_share
        self.poll_interval = poll_interval
        for sub in ('data', 'incomplete', 'locks'):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        self._db_path = os.path.join(directory, 'index.sqlite')
        db = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
        try:
            db.execute('PRAGMA journal_mode=WAL')
            db.executescript('''
                CREATE TABLE IF NOT EXISTS entries (
                    image_id TEXT PRIMARY KEY, hash TEXT, size INTEGER NOT NULL,
                    state TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0,
                    last_accessed REAL NOT NULL, created REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS queue (
                    image_id TEXT PRIMARY KEY, queued_at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS counters (
                    name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            ''')
            for name in _COUNTERS:
                db.execute('INSERT OR IGNORE INTO counters VALUES (?, 0)', (name,))
        finally:
            db.close()

    @classmethod
    def from_conf(cls, conf=CONF):
        if not conf.cache.directory:
            return None
        return cls(conf.cache.directory, conf.cache.max_size, conf.cache.max_image_share,
                   conf.cache.follow_poll_interval)

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
            db.execute('ROLLBACK')
            raise
        finally:
            db.close()

    def _count(self, db=None, **increments):
        if db is None:
            with self._db() as db:
                return self._count(db, **increments)
        for name, value in increments.items():
            db.execute('UPDATE counters SET value = value + ? WHERE name = ?', (value, name))

    def _path(self, kind, image_id):
        if '/' in image_id or image_id in ('.', '..'):
            raise exception.BadRequest('Invalid image id')
        return os.path.join(self.directory, kind, image_id)

    def cleanup_at_start(self):
        """Drop partial fills nobody is filling any more, and entries without a file.

        Safe while other workers fill: a fill whose lock is held is left alone.
        """
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

    # --- reading --------------------------------------------------------------------------

    def lookup(self, image, nbytes=0):
        """The committed file's path if the image is cached with this hash (a hit).

        A hit counts ``nbytes`` as served from the cache, in the same transaction.
        """
        with self._db() as db:
            row = db.execute("SELECT hash FROM entries WHERE image_id = ? AND "
                             "state = 'ready'", (image['id'],)).fetchone()
            if row is None:
                return None
            if row[0] != image['os_hash_value']:
                self._evict_locked(db, image['id'])  # stale: the image is not this one
                return None
            db.execute('UPDATE entries SET hits = hits + 1, last_accessed = ? '
                       'WHERE image_id = ?', (time.time(), image['id']))
            self._count(db, hits=1, bytes_from_cache=nbytes)
        path = self._path('data', image['id'])
        return path if os.path.exists(path) else None

    def cacheable(self, image):
        return (image.get('size') is not None and image.get('os_hash_value')
                and image['size'] <= self.max_size * self.max_image_share)

    def read(self, image, open_backend, start=0, end=None):
        """Bytes start..end of the image through the cache: (source, iterator).

        ``source`` is 'hit', 'fill' (this request started the fill), 'follow' or 'bypass'.
        ``open_backend(image)`` returns the whole image's chunks, verified.
        """
        end = image['size'] - 1 if end is None else end
        path = self.lookup(image, end - start + 1)
        if path is not None:
            return 'hit', _file_range(path, start, end)
        if not self.cacheable(image):
            self._count(bypasses=1)
            return 'bypass', None
        source = 'follow'
        lock = self._try_lock(image['id'])
        if lock is not None:
            if self.lookup(image) is not None:  # committed while we took the lock
                _unlock(lock)
                return self.read(image, open_backend, start, end)
            if not self._reserve(image):
                _unlock(lock)
                self._count(bypasses=1)
                return 'bypass', None
            self._count(misses=1, fills=1)
            incomplete = self._path('incomplete', image['id'])
            open(incomplete, 'wb').close()  # followers wait for this file to exist
            eventlet.spawn_n(self._fill, image, open_backend, lock, incomplete)
            source = 'fill'
        else:
            self._count(followers=1)
        self._count(bytes_from_cache=end - start + 1)
        return source, self._follow(image, start, end)

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
        """Make room for the image (LRU eviction) and record the fill; False if no room."""
        with self._db() as db:
            used = db.execute('SELECT COALESCE(SUM(size), 0) FROM entries').fetchone()[0]
            victims = db.execute("SELECT image_id, size FROM entries WHERE state = 'ready' "
                                 "ORDER BY last_accessed").fetchall()
            while used + image['size'] > self.max_size and victims:
                victim, size = victims.pop(0)
                self._evict_locked(db, victim)
                used -= size
            if used + image['size'] > self.max_size:
                return False
            now = time.time()
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, 'filling', 0, ?, ?)",
                       (image['id'], image['os_hash_value'], image['size'], now, now))
            return True

    def _evict_locked(self, db, image_id):
        db.execute('DELETE FROM entries WHERE image_id = ?', (image_id,))
        try:
            os.unlink(self._path('data', image_id))
        except FileNotFoundError:
            pass
        self._count(db, evictions=1)

    def _fill(self, image, open_backend, lock, incomplete):
        """The one backend read: write, verify, commit (rename) or discard."""
        hasher = hashlib.new(image['os_hash_algo'])
        written = 0
        try:
            with open(incomplete, 'wb', buffering=0) as f:  # followers read what is written
                for chunk in open_backend(image):
                    view = memoryview(chunk)
                    while view:  # an unbuffered write may be short
                        view = view[f.write(view):]
                    hasher.update(chunk)
                    written += len(chunk)
                # in a native thread: flushing a GiB to disk takes a while, and this
                # process's other clients must not wait for it
                tpool.execute(os.fsync, f.fileno())
            if written != image['size'] or hasher.hexdigest() != image['os_hash_value']:
                self._count(verification_failures=1)
                LOG.error('Image %s data is corrupt in its store: the cache fill read %d '
                          'bytes that do not match its %s; nothing was cached',
                          image['id'], written, image['os_hash_algo'])
                raise CacheFillFailed(image_id=image['id'])
            os.rename(incomplete, self._path('data', image['id']))
            with self._db() as db:
                db.execute("UPDATE entries SET state = 'ready', last_accessed = ? "
                           "WHERE image_id = ?", (time.time(), image['id']))
                self._count(db, bytes_from_backend=written)
            LOG.info('Cached image %s (%d bytes)', image['id'], written)
        except Exception as e:
            if not isinstance(e, CacheFillFailed):
                if isinstance(e, exception.ImageDataCorrupt):
                    self._count(verification_failures=1)
                LOG.error('Cache fill of image %s failed: %s', image['id'], e)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(incomplete)
            with self._db() as db:
                db.execute("DELETE FROM entries WHERE image_id = ? AND state = 'filling'",
                           (image['id'],))
        finally:
            _unlock(lock)

    def _follow(self, image, start, end):
        """Read start..end from the file being filled, waiting for bytes as they come.

        The final byte of the range is held back until the fill is committed (verified).
        """
        image_id = image['id']
        fd = self._open_fill(image_id)
        try:
            position = start
            while position <= end:
                committed = self._committed(image)
                limit = min(end + 1, os.fstat(fd).st_size)
                if not committed:
                    limit = min(limit, end)
                if position < limit:
                    data = os.pread(fd, min(limit - position, _CHUNK), position)
                    if data:
                        position += len(data)
                        yield data
                        continue
                if not committed and not self._still_filling(image_id, fd):
                    if self._committed(image):
                        continue  # committed between the two looks
                    raise CacheFillFailed(image_id=image_id)
                eventlet.sleep(self.poll_interval)
        finally:
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

    def _committed(self, image):
        return os.path.exists(self._path('data', image['id']))

    # --- management -----------------------------------------------------------------------

    def list(self):
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
        with self._db() as db:
            return db.execute('SELECT COALESCE(SUM(size), 0) FROM entries').fetchone()[0]

    def status(self, image_id):
        """{'image_id', 'state': cached|filling|queued|absent, and for cached: path, hash}."""
        path = self._path('data', image_id)
        with self._db() as db:
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
        with self._db() as db:
            db.execute('INSERT OR IGNORE INTO queue VALUES (?, ?)', (image_id, time.time()))

    def next_queued(self):
        """Claim the oldest queued image id (removing it from the queue), or None."""
        with self._db() as db:
            row = db.execute('SELECT image_id FROM queue ORDER BY queued_at LIMIT 1').fetchone()
            if row is not None:
                db.execute('DELETE FROM queue WHERE image_id = ?', (row[0],))
            return row[0] if row else None

    def prefetch(self, image, open_backend):
        """Fill the cache with an image without a client; waits for the fill to end."""
        source, chunks = self.read(image, open_backend)
        if chunks is None:
            return source
        for _ in chunks:
            pass
        return source

    def evict(self, image_id):
        with self._db() as db:
            row = db.execute("SELECT 1 FROM entries WHERE image_id = ? AND state = 'ready'",
                             (image_id,)).fetchone()
            db.execute('DELETE FROM queue WHERE image_id = ?', (image_id,))
            if row is None:
                return False
            self._evict_locked(db, image_id)
            return True

    def clear(self, target='both'):
        cleared = {'cache': 0, 'queue': 0}
        with self._db() as db:
            if target in ('cache', 'both'):
                for (image_id,) in db.execute("SELECT image_id FROM entries "
                                              "WHERE state = 'ready'").fetchall():
                    self._evict_locked(db, image_id)
                    cleared['cache'] += 1
            if target in ('queue', 'both'):
                cleared['queue'] = db.execute('DELETE FROM queue').rowcount
        return cleared

    def prune(self, max_size=None):
        """Evict least-recently-used images until the cache holds at most max_size."""
        limit = self.max_size if max_size is None else max_size
        evicted = 0
        with self._db() as db:
            used = db.execute('SELECT COALESCE(SUM(size), 0) FROM entries').fetchone()[0]
            for image_id, size in db.execute("SELECT image_id, size FROM entries WHERE "
                                             "state = 'ready' ORDER BY last_accessed"
                                             ).fetchall():
                if used <= limit:
                    break
                self._evict_locked(db, image_id)
                used -= size
                evicted += 1
        return {'evicted': evicted, 'size': used}

    def scrub(self, lookup_image):
        """Re-hash every cached file; evict those that no longer match. Returns bad ids."""
        bad = []
        for entry in self.list()['cached_images']:
            image_id = entry['image_id']
            with self._db() as db:
                row = db.execute('SELECT hash FROM entries WHERE image_id = ?',
                                 (image_id,)).fetchone()
            try:
                algo = lookup_image(image_id)['os_hash_algo']
                hasher = hashlib.new(algo)
                with open(self._path('data', image_id), 'rb') as f:
                    for chunk in iter(lambda: f.read(_CHUNK), b''):
                        hasher.update(chunk)
                good = row is not None and hasher.hexdigest() == row[0]
            except (OSError, exception.NotFound):
                good = False
            if not good:
                LOG.error('Cached copy of image %s is corrupt; evicted', image_id)
                self._count(verification_failures=1)
                self.evict(image_id)
                bad.append(image_id)
        return bad

    def metrics(self):
        with self._db() as db:
            values = dict(db.execute('SELECT name, value FROM counters').fetchall())
            values['size'] = db.execute('SELECT COALESCE(SUM(size), 0) FROM entries '
                                        "WHERE state = 'ready'").fetchone()[0]
            values['images'] = db.execute("SELECT COUNT(*) FROM entries "
                                          "WHERE state = 'ready'").fetchone()[0]
        values['max_size'] = self.max_size
        return values


class FileRange:
    """A byte range of a committed cache file.

    Iterable, and sendfile-able by the eventlet server (glance.common.wsgi.ZeroCopy).
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


def _file_range(path, start, end):
    return FileRange(path, start, end)


def _unlock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def list_opts():
    return [('cache', cache_opts)]
