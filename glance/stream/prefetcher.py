"""Background work of a glance-stream worker with a cache.

The prefetcher works through the cache's prefetch queue: each queued image is filled without
a client. The metrics logger writes the cache counters to the log every
``[cache] metrics_log_interval`` seconds when they changed.

One green thread per glance-stream worker; a queued id is claimed by exactly one of them
(the claim deletes it from the queue in one transaction). Images that are no longer active
are skipped.
"""

import eventlet
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import api as db_api
from glance.stream import reader

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
            source = cache.prefetch(image, reader.open_raw)
            LOG.info('Prefetched image %s (%s)', image_id, source)
        except Exception as e:
            LOG.error('Prefetch of image %s failed: %s', image_id, e)


def _loop(cache):
    while True:
        try:
            run_once(cache)
        except Exception:
            LOG.exception('Prefetcher failed; trying again')
        eventlet.sleep(CONF.cache.prefetch_interval)


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


def start(cache):
    threads = [eventlet.spawn(_loop, cache)]
    if CONF.cache.metrics_log_interval:
        threads.append(eventlet.spawn(_metrics_loop, cache))
    return threads
