"""A healthcheck backend (oslo.middleware) that reports the state of the node's cache.

Enabled in etc/glance-stream-paste.ini (``backends = disable_by_file,glance_cache``). A
degraded cache leaves the node available (downloads are served from the stores), so the
check stays 200 and says why in its reason; ``/healthcheck`` with ``Accept:
application/json`` shows it.
"""

from oslo_middleware.healthcheck import pluginbase

from glance.stream import cache as image_cache


class CacheHealthcheck(pluginbase.HealthcheckBaseExtension):

    def healthcheck(self, server_port):
        cache = image_cache.ImageCache.shared()
        if cache is None:
            return pluginbase.HealthcheckResult(available=True, reason='cache: none')
        cache.ensure_ready()
        problem = cache.degraded or cache.probe()
        if problem:
            return pluginbase.HealthcheckResult(
                available=True, reason='cache: degraded (%s)' % problem,
                details='downloads are served from the stores until the cache heals')
        return pluginbase.HealthcheckResult(available=True, reason='cache: ok')
