"""The stream cache on a real directory, with real green threads and forked processes.

The backend here is a plain generator that counts how often it is opened: that is the
behaviour under test (one backend read per image, however many readers).
"""

import hashlib
import multiprocessing
import os
import shutil
import tempfile
import uuid

import eventlet
import testtools

from glance.common import exception
from glance.common import native
from glance.stream import cache as image_cache


def _image(data, image_id=None):
    return {'id': image_id or str(uuid.uuid4()), 'size': len(data),
            'os_hash_algo': 'sha512', 'os_hash_value': hashlib.sha512(data).hexdigest(),
            'checksum': hashlib.md5(data).hexdigest()}


class _Backend:
    """Serves images in slow chunks and counts opens."""

    def __init__(self, chunk=64 * 1024, delay=0.001):
        self.images = {}
        self.opens = 0
        self.chunk = chunk
        self.delay = delay

    def add(self, data, corrupt=False):
        image = _image(data)
        self.images[image['id']] = bytearray(data)
        if corrupt:
            self.images[image['id']][len(data) // 2] ^= 0xFF
        return image

    def __call__(self, image):
        """The image's chunks, verified as glance.store.reader verifies a whole read.

        The last chunk is held back until the multihash matches.
        """
        self.opens += 1
        data = bytes(self.images[image['id']])
        hasher = hashlib.new(image['os_hash_algo'])
        held = None
        for i in range(0, len(data), self.chunk):
            eventlet.sleep(self.delay)
            chunk = data[i:i + self.chunk]
            hasher.update(chunk)
            if held is not None:
                yield held
            held = chunk
        if hasher.hexdigest() != image['os_hash_value']:
            raise exception.ImageDataCorrupt(image_id=image['id'])
        if held is not None:
            yield held


class CacheTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.backend = _Backend()

    def make(self, max_size=64 * 1024 * 1024, share=0.5):
        return image_cache.ImageCache(self.dir, max_size, share, poll_interval=0.001)

    def read(self, cache, image, start=0, end=None):
        source, body = cache.read(image, self.backend, start, end)
        return source, b''.join(body)

    def disk_usage(self):
        total = 0
        for sub in ('data', 'incomplete'):
            for name in os.listdir(os.path.join(self.dir, sub)):
                total += os.path.getsize(os.path.join(self.dir, sub, name))
        return total


class TestSingleFlight(CacheTest):

    def test_fifty_concurrent_readers_one_backend_read(self):
        data = os.urandom(2 * 1024 * 1024)
        image = self.backend.add(data)
        cache = self.make()
        results = []

        def reader():
            results.append(self.read(cache, image))

        pool = eventlet.GreenPool(50)
        for _ in range(50):
            pool.spawn(reader)
        pool.waitall()
        self.assertEqual(1, self.backend.opens)
        self.assertEqual(50, len(results))
        self.assertTrue(all(body == data for _, body in results))
        sources = [source for source, _ in results]
        self.assertEqual(1, sources.count('fill'))
        self.assertEqual('hit', self.read(cache, image)[0])
        metrics = cache.metrics()
        self.assertEqual(1, metrics['fills'])
        self.assertEqual(len(data), metrics['bytes_from_backend'])

    def test_range_from_a_growing_fill(self):
        data = os.urandom(1024 * 1024)
        image = self.backend.add(data)
        cache = self.make()
        source, first = cache.read(image, self.backend)
        self.assertEqual('fill', source)
        source, part = self.read(cache, image, 1000, 199999)
        self.assertEqual('follow', source)
        self.assertEqual(data[1000:200000], part)
        self.assertEqual(data, b''.join(first))
        self.assertEqual(data[-10:], self.read(cache, image, len(data) - 10)[1])

    def test_fill_continues_when_the_first_client_leaves(self):
        data = os.urandom(1024 * 1024)
        image = self.backend.add(data)
        cache = self.make()
        source, body = cache.read(image, self.backend)
        next(iter(body))
        body.close()  # the client went away
        deadline = eventlet.Timeout(10)
        try:
            while cache.lookup(image) is None:
                eventlet.sleep(0.01)
        finally:
            deadline.cancel()
        self.assertEqual(1, self.backend.opens)


def _process_reader(directory, image, data, queue):
    # a forked worker, as glance's server makes them: its own hub and native thread pool
    eventlet.hubs.use_hub()
    native.reset_tpool_after_fork()
    backend_opens = []

    def backend(img):
        backend_opens.append(1)
        for i in range(0, len(data), 65536):
            eventlet.sleep(0.002)
            yield data[i:i + 65536]

    cache = image_cache.ImageCache(directory, 64 * 1024 * 1024, 0.5, poll_interval=0.001)
    _, body = cache.read(image, backend)
    digest = hashlib.sha256(b''.join(body)).hexdigest()
    queue.put((len(backend_opens), digest))


class TestAcrossProcesses(CacheTest):

    def test_four_workers_one_fill(self):
        data = os.urandom(3 * 1024 * 1024)
        image = _image(data)
        self.make()
        ctx = multiprocessing.get_context('fork')
        queue = ctx.Queue()
        procs = [ctx.Process(target=_process_reader, args=(self.dir, image, data, queue))
                 for _ in range(4)]
        for p in procs:
            p.start()
        results = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(10)
        self.assertEqual(1, sum(opens for opens, _ in results))
        self.assertEqual({hashlib.sha256(data).hexdigest()}, {h for _, h in results})


class TestBoundAndEviction(CacheTest):

    def test_never_above_the_bound(self):
        cache = self.make(max_size=3 * 1024 * 1024, share=0.5)
        images = [self.backend.add(os.urandom(1024 * 1024)) for _ in range(8)]
        for image in images + images[:3]:
            source, body = cache.read(image, self.backend)
            for _ in body:
                self.assertLessEqual(self.disk_usage(), 3 * 1024 * 1024)
            self.assertLessEqual(cache.used(), 3 * 1024 * 1024)
        self.assertGreater(cache.metrics()['evictions'], 0)
        self.assertEqual(3, len(cache.list()['cached_images']))

    def test_least_recently_used_goes_first(self):
        cache = self.make(max_size=3 * 1024 * 1024, share=0.5)
        a, b, c, d = (self.backend.add(os.urandom(1024 * 1024)) for _ in range(4))
        for image in (a, b, c):
            self.read(cache, image)
        self.read(cache, a)  # a is now the most recent
        self.read(cache, d)  # evicts b
        cached = {e['image_id'] for e in cache.list()['cached_images']}
        self.assertEqual({a['id'], c['id'], d['id']}, cached)

    def test_too_big_for_its_share_is_not_cached(self):
        cache = self.make(max_size=1024 * 1024, share=0.5)
        image = self.backend.add(os.urandom(600 * 1024))
        source, body = cache.read(image, self.backend)
        self.assertEqual('bypass', source)
        self.assertIsNone(body)
        self.assertEqual([], cache.list()['cached_images'])


class TestVerification(CacheTest):

    def test_corrupt_backend_data_is_never_cached(self):
        data = os.urandom(1024 * 1024)
        image = self.backend.add(data, corrupt=True)
        cache = self.make()
        source, body = cache.read(image, self.backend)
        received = b''
        with testtools.ExpectedException(image_cache.CacheFillFailed):
            for chunk in body:
                received += chunk
        self.assertLess(len(received), len(data))
        self.assertIsNone(cache.lookup(image))
        self.assertEqual([], os.listdir(os.path.join(self.dir, 'data')))
        self.assertEqual(1, cache.metrics()['verification_failures'])

    def test_scrub_evicts_a_file_corrupted_on_disk(self):
        data = os.urandom(256 * 1024)
        image = self.backend.add(data)
        cache = self.make()
        self.read(cache, image)
        path = os.path.join(self.dir, 'data', image['id'])
        with open(path, 'r+b') as f:
            f.write(b'\0\0\0\0')
        self.assertEqual({'checked': 1, 'bad': [image['id']]},
                         cache.scrub(lambda image_id: image))
        self.assertIsNone(cache.lookup(image))

    def test_a_changed_hash_is_a_miss(self):
        data = os.urandom(100 * 1024)
        image = self.backend.add(data)
        cache = self.make()
        self.read(cache, image)
        changed = dict(image, os_hash_value='0' * 128)
        self.assertIsNone(cache.lookup(changed))


class TestPersistenceAndManagement(CacheTest):

    def test_restart_keeps_committed_and_drops_partial(self):
        data = os.urandom(200 * 1024)
        image = self.backend.add(data)
        cache = self.make()
        self.read(cache, image)
        with open(os.path.join(self.dir, 'incomplete', 'half-written'), 'wb') as f:
            f.write(b'x' * 1000)
        restarted = self.make()
        restarted.cleanup_at_start()
        self.assertEqual([], os.listdir(os.path.join(self.dir, 'incomplete')))
        self.assertEqual('hit', self.read(restarted, image)[0])

    def test_queue_evict_clear_prune(self):
        cache = self.make(max_size=4 * 1024 * 1024)
        images = [self.backend.add(os.urandom(1024 * 1024)) for _ in range(3)]
        for image in images:
            self.read(cache, image)
        cache.queue('queued-1')
        listing = cache.list()
        self.assertEqual(['queued-1'], listing['queued_images'])
        self.assertEqual(3, len(listing['cached_images']))
        self.assertTrue(cache.evict(images[0]['id']))
        self.assertFalse(cache.evict(images[0]['id']))
        self.assertEqual({'evicted': 1, 'size': 1024 * 1024}, cache.prune(1024 * 1024))
        self.assertEqual({'cache': 1, 'queue': 1}, cache.clear('both'))
        self.assertEqual([], cache.list()['cached_images'])

    def test_prefetch_queue_is_claimed_once(self):
        cache = self.make()
        cache.queue('a')
        cache.queue('b')
        self.assertEqual('a', cache.next_queued())
        self.assertEqual('b', cache.next_queued())
        self.assertIsNone(cache.next_queued())
