"""Catalog records as the API shows them: upstream's field names, links, no nulls.

Fields without a value are left out rather than shown as null: clients validate responses
against /v2/schemas/metadefs/*, whose string fields do not admit null.
"""

import urllib.parse

from glance.metadef import schema

_NS_PATH = '/v2/metadefs/namespaces/%s'


def _time(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value is not None else None


def _quote(name):
    # "OS::Compute::Watchdog" stays readable, as upstream shows it; "/" and the rest do not.
    return urllib.parse.quote(name, safe=':')


def writable(body, kind):
    """``body`` without the fields the server sets, validated as a ``kind`` document.

    Clients send back what they were shown (timestamps, links); those are dropped here
    rather than refused.
    """
    if isinstance(body, dict):
        for name in ('created_at', 'updated_at', 'schema', 'self'):
            body.pop(name, None)
    schema.validate(kind, body)
    return body


def _stamps(record, view):
    view['created_at'] = _time(record['created_at'])
    view['updated_at'] = _time(record['updated_at'] or record['created_at'])
    return view


def _present(mapping):
    return {k: v for k, v in mapping.items() if v is not None}


def association(assoc):
    return _stamps(assoc, _present({'name': assoc['name'], 'prefix': assoc['prefix'],
                                    'properties_target': assoc['properties_target']}))


def resource_type(resource_type):
    return _stamps(resource_type, {'name': resource_type['name']})


def property_body(prop):
    """A property's definition without its name (as inside a namespace or object)."""
    return dict(prop['schema'])


def property_(prop):
    view = {'name': prop['name']}
    view.update(property_body(prop))
    return view


def properties(props):
    return {p['name']: property_body(p) for p in props}


def object_(obj, namespace):
    view = _present({'name': obj['name'], 'description': obj['description']})
    view['required'] = list(obj['required'])
    view['properties'] = dict(obj['properties'])
    view['schema'] = '/v2/schemas/metadefs/object'
    view['self'] = (_NS_PATH + '/objects/%s') % (_quote(namespace), _quote(obj['name']))
    return _stamps(obj, view)


def tag(tag):
    return _stamps(tag, {'name': tag['name']})


def namespace(ns):
    """A namespace; its content (properties, objects, tags) when the record carries it."""
    view = _present({k: ns[k] for k in ('namespace', 'display_name', 'description',
                                        'visibility', 'owner')})
    view['protected'] = bool(ns['protected'])
    view['schema'] = '/v2/schemas/metadefs/namespace'
    view['self'] = _NS_PATH % _quote(ns['namespace'])
    _stamps(ns, view)
    if ns.get('resource_type_associations'):
        view['resource_type_associations'] = [association(a)
                                              for a in ns['resource_type_associations']]
    if ns.get('properties'):
        view['properties'] = properties(ns['properties'])
    if ns.get('objects'):
        view['objects'] = [object_(o, ns['namespace']) for o in ns['objects']]
    if ns.get('tags'):
        view['tags'] = [tag(t) for t in ns['tags']]
    return view
