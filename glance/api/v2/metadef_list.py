"""Paging and sorting parameters of the catalog's list calls, and their ``first``/``next``
links (namespaces, objects, tags). Anything a client gets wrong is a 400 naming it."""

import urllib.parse

from oslo_config import cfg

from glance.api.v2 import list_params
from glance.common import exception

CONF = cfg.CONF


def parse(params, sort_keys, extra=()):
    """``limit``, ``marker``, ``sort_key``, ``sort_dir`` and the ``extra`` filters."""
    result = {'sort_key': params.get('sort_key', 'created_at'),
              'sort_dir': params.get('sort_dir', 'desc')}
    if result['sort_key'] not in sort_keys:
        raise exception.InvalidParameterValue(
            value=result['sort_key'], param='sort_key',
            extra_msg='must be one of %s' % ', '.join(sort_keys))
    if result['sort_dir'] not in list_params.SORT_DIRS:
        raise exception.InvalidParameterValue(value=result['sort_dir'], param='sort_dir',
                                              extra_msg='must be asc or desc')
    if 'limit' in params:
        result['limit'] = min(list_params._int('limit', params['limit'], minimum=1),
                              CONF.api.limit_param_max)
    else:
        result['limit'] = min(CONF.database.image_list_default_page_size,
                              CONF.api.limit_param_max)
    if params.get('marker'):
        result['marker'] = params['marker']
    for name in extra:
        if name in params:
            result[name] = params[name]
    return result


def links(req, path, items, limit, marker_of):
    """``first`` (this query without its marker) and, after a full page, ``next``."""
    query = [(k, v) for k, v in req.params.items() if k != 'marker']
    body = {'first': path + ('?' + urllib.parse.urlencode(query) if query else '')}
    if items and len(items) == limit:
        body['next'] = path + '?' + urllib.parse.urlencode(
            query + [('marker', marker_of(items[-1]))])
    return body
