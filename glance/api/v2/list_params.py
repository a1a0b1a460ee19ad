"""Query parameters of ``GET /v2/images``: filters, sorting and paging, as upstream parses them.

Everything a client may get wrong answers 400 with the parameter named.
"""

from oslo_config import cfg
from oslo_utils import timeutils
from oslo_utils import uuidutils

from glance.api.v2 import image_schema
from glance.common import exception
from glance.db import api as db_api

CONF = cfg.CONF

api_opts = [
    cfg.IntOpt('limit_param_max', default=1000, min=1, deprecated_name='api_limit_max',
               deprecated_group='DEFAULT',
               help='Most items one list call returns; a larger "limit" is cut to this.'),
    cfg.IntOpt('image_list_concurrency', default=2, min=0,
               help='How many image lists (GET /v2/images) one glance-api worker serves at '
                    'once; further list calls wait for their turn, other calls do not. A '
                    'page of images costs several times the CPU of any other call, and a '
                    'worker serves its requests in turns on one thread: with every list '
                    'admitted at once, a burst of lists makes each cheap call wait behind '
                    'all of their work. 2 costs lists no throughput on a worker of its '
                    'own; 0 admits every list at once.'),
]
CONF.register_opts(api_opts, group='api')

SORT_DIRS = ('asc', 'desc')
MEMBER_STATUSES = ('accepted', 'pending', 'rejected', 'all')
VISIBILITY_FILTERS = ('public', 'private', 'shared', 'community', 'all')
# Columns filtered by equality or with "in:a,b"; other keys are custom properties.
_COLUMN_FILTERS = ('name', 'status', 'container_format', 'disk_format', 'id', 'owner',
                   'checksum', 'os_hash_value')
_TIME_FILTERS = ('created_at', 'updated_at')
_TIME_OPS = ('eq', 'neq', 'gt', 'gte', 'lt', 'lte')
_NOT_FILTERS = ('limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'member_status')


def _bool(name, value):
    lowered = value.lower()
    if lowered in ('true', '1', 'yes', 'on'):
        return True
    if lowered in ('false', '0', 'no', 'off'):
        return False
    raise exception.InvalidParameterValue(value=value, param=name,
                                          extra_msg='expected true or false')


def _int(name, value, minimum=0, maximum=image_schema.MAX_BIGINT):
    """An integer within the column's range (beyond it no engine could compare it)."""
    try:
        number = int(value)
    except ValueError:
        raise exception.InvalidParameterValue(value=value[:64], param=name,
                                              extra_msg='expected an integer')
    if number < minimum:
        raise exception.InvalidParameterValue(value=value, param=name,
                                              extra_msg='must be >= %d' % minimum)
    if number > maximum:
        raise exception.InvalidParameterValue(value=value[:64], param=name,
                                              extra_msg='must be <= %d' % maximum)
    return number


def _split_list(value):
    """``in:"a,b",c`` -> ['a,b', 'c']: commas inside double quotes belong to the value."""
    items, current, quoted = [], '', False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif char == ',' and not quoted:
            items.append(current)
            current = ''
        else:
            current += char
    if quoted:
        raise exception.BadRequest('Unmatched double quote in list filter: %s' % value)
    items.append(current)
    return items


def _column_condition(name, value):
    if value.startswith('in:'):
        return ('in', _split_list(value[3:]))
    if value.startswith('eq:'):
        return ('eq', value[3:])
    return ('eq', value)


def _time_condition(name, value):
    """``<op>:<time>``, or a bare time meaning ``eq`` (as upstream)."""
    op, _, when = value.partition(':')
    if op not in _TIME_OPS:
        op, when = 'eq', value  # "2020-01-01T00:00:00Z": the colons are the time's
    try:
        moment = timeutils.normalize_time(timeutils.parse_isotime(when))
    except ValueError:
        raise exception.InvalidParameterValue(
            value=value[:64], param=name,
            extra_msg='expected an ISO 8601 time, optionally after an operator (one of '
                      '%s) and a colon' % ', '.join(_TIME_OPS))
    return (op, moment)


def parse_sort(params):
    """sort_key/sort_dir (repeatable) or sort=key:dir,key; not both."""
    sort = params.getall('sort')
    keys, dirs = params.getall('sort_key'), params.getall('sort_dir')
    if sort and (keys or dirs):
        raise exception.BadRequest('The "sort" parameter cannot be combined with "sort_key" '
                                   'or "sort_dir".')
    if sort:
        keys, dirs = [], []
        for item in ','.join(sort).split(','):
            key, _, direction = item.strip().partition(':')
            keys.append(key)
            dirs.append(direction or 'desc')
    else:
        if len(dirs) > len(keys) and not (len(dirs) == 1 and not keys):
            raise exception.BadRequest('There are more sort_dir than sort_key values.')
        if not keys:
            keys = ['created_at']
        if len(dirs) == 1 and len(keys) > 1:
            dirs = dirs * len(keys)
        dirs = dirs + ['desc'] * (len(keys) - len(dirs))
    for key in keys:
        if key not in db_api.IMAGE_SORT_KEYS:
            raise exception.InvalidSortKey(key=key)
    for direction in dirs:
        if direction not in SORT_DIRS:
            raise exception.InvalidParameterValue(value=direction, param='sort_dir',
                                                  extra_msg='expected asc or desc')
    return keys, dirs


def parse(params):
    """A webob MultiDict of query parameters -> keyword arguments of service.list_images."""
    if 'changes-since' in params:
        raise exception.BadRequest('The "changes-since" filter is no longer available on '
                                   'the v2 API.')
    result = {'filters': {}}
    filters = result['filters']
    if 'limit' in params:
        result['limit'] = min(_int('limit', params['limit']), CONF.api.limit_param_max)
    else:
        result['limit'] = min(CONF.database.image_list_default_page_size,
                              CONF.api.limit_param_max)
    if 'marker' in params:
        result['marker'] = params['marker']
        if not uuidutils.is_uuid_like(result['marker']):
            raise exception.BadRequest('Marker %s could not be found.' % result['marker'])
    result['sort_keys'], result['sort_dirs'] = parse_sort(params)
    member_status = params.get('member_status', 'accepted')
    if member_status not in MEMBER_STATUSES:
        raise exception.InvalidParameterValue(
            value=member_status, param='member_status',
            extra_msg='expected one of %s' % ', '.join(MEMBER_STATUSES))
    result['member_status'] = member_status
    hidden = False
    for name, value in params.items():
        if name in _NOT_FILTERS:
            continue
        if name == 'visibility':
            if value not in VISIBILITY_FILTERS:
                raise exception.InvalidParameterValue(
                    value=value, param='visibility',
                    extra_msg='expected one of %s' % ', '.join(VISIBILITY_FILTERS))
            if value != 'all':
                filters['visibility'] = value
        elif name == 'tag':
            filters.setdefault('tags', []).append(value)
        elif name in ('size_min', 'size_max'):
            op = 'gte' if name == 'size_min' else 'lte'
            filters.setdefault('size', []).append((op, _int(name, value)))
        elif name in ('protected', 'os_hidden'):
            flag = _bool(name, value)
            filters[name] = [('eq', flag)]
            if name == 'os_hidden':
                hidden = True
        elif name in ('min_ram', 'min_disk'):
            filters.setdefault(name, []).append(
                ('eq', _int(name, value, maximum=image_schema.MAX_INT)))
        elif name in _TIME_FILTERS:
            filters.setdefault(name, []).append(_time_condition(name, value))
        elif name in _COLUMN_FILTERS:
            filters.setdefault(name, []).append(_column_condition(name, value))
        else:
            filters.setdefault('properties', {})[name] = value
    if not hidden:
        filters['os_hidden'] = [('eq', False)]
    return result


def list_opts():
    return [('api', api_opts)]
