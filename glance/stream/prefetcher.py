"""Background work of a glance-stream node with a cache (glance.common.background).

Once per host, after the fork: partial fills left by a crash are cleaned up; the prefetcher
works through the cache's prefetch queue (each queued image is filled without a client);
the scrub re-verifies every cached file piece by piece every ``[cache] scrub_interval``
seconds; the metrics logger writes the cache counters to the log every
``[cache] metrics_log_interval`` seconds when they changed. Images that are no longer
active are skipped.
"""

import functools

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import api as db_api
from glance.store import backend
from glance.store import reader
from glance.stream import cache as image_cache
from glance.stream import cache_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def run_once(cache):
    """Prefetch every queued image; returns how many were handled."""
    handled = 0
    while True:
        image_id = cache.next_queued()
        if image_id is None:
            return handled
        handled += 1
        try:
            image = db_api.image_get(image_id)
        except exception.ImageNotFound:
            LOG.info('Not prefetching image %s: it no longer exists', image_id)
            continue
        if image['status'] != 'active' or not image['locations']:
            LOG.info('Not prefetching image %s: it is %s', image_id, image['status'])
            continue
        try:
            source = cache.prefetch(
                image, functools.partial(reader.open_verified, reuse_buffers=True))
            LOG.info('Prefetched image %s (%s)', image_id, source)
        except Exception as e:
            LOG.error('Prefetch of image %s failed: %s', image_id, e)


def _loop(cache):
    while True:
        try:
            run_once(cache)
        except image_cache.CacheUnavailable as e:
            LOG.warning('Prefetcher waits for the cache: %s', e)
        except Exception:
            LOG.exception('Prefetcher failed; trying again')
        eventlet.sleep(CONF.cache.prefetch_interval)


def _scrub_loop(cache):
    while True:
        eventlet.sleep(CONF.cache.scrub_interval)
        try:
            result = cache.scrub(cache_api.load_image)
            LOG.info('Cache scrub: %d images checked, %d evicted', result['checked'],
                     len(result['bad']))
        except image_cache.CacheUnavailable as e:
            LOG.warning('Cache scrub skipped: %s', e)
        except Exception:
            LOG.exception('Cache scrub failed; it runs again in %ss',
                          CONF.cache.scrub_interval)


def metrics_line(values):
    """One log line of the cache counters, in a stable order."""
    names = ('hits', 'misses', 'followers', 'fills', 'bypasses', 'bytes_from_cache',
             'bytes_from_backend', 'evictions', 'verification_failures', 'images', 'size',
             'max_size')
    return ' '.join('%s=%s' % (name, values.get(name, 0)) for name in names)


def _metrics_loop(cache):
    last = None
    while True:
        eventlet.sleep(CONF.cache.metrics_log_interval)
        try:
            line = metrics_line(cache.metrics())
        except Exception:
            LOG.exception('Could not read the cache counters')
            continue
        if line != last:
            LOG.info('Cache metrics: %s', line)
            last = line


def start():
    """Start the node's background loops (called once per host, in a worker)."""
    cache = image_cache.ImageCache.shared()
    if cache is None:
        return []
    backend.configure()
    try:
        cache.cleanup_at_start()
    except image_cache.CacheUnavailable as e:
        LOG.warning('Cache clean-up at start skipped: %s', e)
    threads = [eventlet.spawn(_loop, cache)]
    if CONF.cache.metrics_log_interval:
        threads.append(eventlet.spawn(_metrics_loop, cache))
    if CONF.cache.scrub_interval:
        threads.append(eventlet.spawn(_scrub_loop, cache))
    return threads
