"""``/v2/cache``: upstream Glance's cache management API, over every glance-stream node.

Admin only (``cache_*`` rules). Listing merges every node's cache; queueing goes to the node
that owns the image (the one downloads are sent to); evicting, clearing and pruning go to
every node. A node that does not answer is reported, not hidden.
"""

import uuid

import webob

from glance.api import resource
from glance.common import exception
from glance.common import stream_client as client
from glance.common import stream_nodes as nodes
from glance.image import service
from glance import policy

CLEAR_TARGETS = ('cache', 'queue', 'both')


def _check_id(image_id):
    """An image id the nodes' cache API can be asked about, or 404 (as no such image)."""
    try:
        uuid.UUID(image_id)
    except ValueError:
        raise exception.ImageNotFound(image_id=image_id)


def _unreachable(results):
    return sorted(endpoint for endpoint, result in results.items() if result is None)


class Controller:

    def _enforce(self, req, rule):
        policy.enforce(req.context, rule, {'project_id': req.context.project_id})

    def index(self, req):
        self._enforce(req, 'cache_list')
        cached, queued = [], []
        failed = {}
        results = client.call_all('GET', '/cache')
        for endpoint, result in sorted(results.items()):
            if result is None:
                continue
            status, answer = result
            if status != 200 or not isinstance(answer, dict):
                # never shown as an empty cache: a degraded node says why (503)
                failed[endpoint] = {'status': status,
                                    'error': (answer or {}).get('error', 'HTTP %s' % status)
                                    if isinstance(answer, dict) else 'HTTP %s' % status}
                continue
            for entry in answer['cached_images']:
                cached.append(dict(entry, node=endpoint))
            queued.extend(answer['queued_images'])
        body = {'cached_images': cached, 'queued_images': queued}
        if _unreachable(results):
            body['unreachable_nodes'] = _unreachable(results)
        if failed:
            body['failed_nodes'] = failed
        return body

    def metrics(self, req):
        self._enforce(req, 'cache_list')
        return {'nodes': {endpoint: (result[1] if result and result[0] == 200 else None)
                          for endpoint, result in client.call_all(
                              'GET', '/cache/metrics').items()}}

    def queue(self, req, image_id):
        self._enforce(req, 'cache_image')
        _check_id(image_id)
        image = service.get(req.context, image_id)
        if image['status'] != 'active':
            raise exception.BadRequest('Only active images can be cached; image %s is %s.'
                                       % (image_id, image['status']))
        endpoint = nodes.pick(image_id)
        status, _ = client.call(endpoint, 'PUT', '/cache/%s' % image_id)
        if status == 404:
            raise exception.Conflict('glance-stream node %s has no cache.' % endpoint)
        if status != 202:
            raise exception.ServiceUnavailable(reason='node %s answered %s'
                                               % (endpoint, status))
        return webob.Response(request=req, status=202)

    def delete(self, req, image_id):
        self._enforce(req, 'cache_delete')
        _check_id(image_id)
        results = client.call_all('DELETE', '/cache/%s' % image_id)
        if _unreachable(results):
            raise exception.ServiceUnavailable(reason='nodes %s did not answer'
                                               % ', '.join(_unreachable(results)))

    def clear(self, req):
        self._enforce(req, 'cache_clear')
        target = req.headers.get('x-image-cache-clear-target', 'both').lower() or 'both'
        if target not in CLEAR_TARGETS:
            raise exception.BadRequest('x-image-cache-clear-target must be one of %s.'
                                       % ', '.join(CLEAR_TARGETS))
        results = client.call_all('DELETE', '/cache',
                                  {'x-image-cache-clear-target': target})
        if _unreachable(results):
            raise exception.ServiceUnavailable(reason='nodes %s did not answer'
                                               % ', '.join(_unreachable(results)))

    def prune(self, req):
        self._enforce(req, 'cache_clear')
        results = client.call_all('POST', '/cache/prune')
        return {'nodes': {endpoint: (result[1] if result and result[0] == 200 else None)
                          for endpoint, result in results.items()}}


def create_resource():
    return resource.Resource(Controller())
