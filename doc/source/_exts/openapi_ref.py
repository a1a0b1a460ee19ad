"""Build the os-api-ref API reference from doc/source/api/openapi.yaml.

There is one description of the API: ``openapi.yaml``, which
glance/tests/unit/api/test_openapi.py holds to the router. At ``builder-inited`` this
extension writes ``api-ref/index.rst`` (``rest_method`` and ``rest_parameters`` per
operation, grouped by resource) and ``api-ref/parameters.yaml`` (os-api-ref's parameter
file, in the order it checks) into the source tree, so the reference can never drift from
the description. Both files are generated: edit ``openapi.yaml``.
"""

import os
import re

import yaml

METHODS = ('get', 'head', 'post', 'put', 'patch', 'delete')
SECTIONS = ('header', 'path', 'query', 'body')
GROUPS = (
    ('Images', r'^/v2/images(/\{image_id\})?$'),
    ('Image data', r'^/v2/images/\{image_id\}/file$|^/v2/info/stores$'),
    ('Image actions', r'^/v2/images/\{image_id\}/actions/'),
    ('Image members', r'^/v2/images/\{image_id\}/members'),
    ('Image tags', r'^/v2/images/\{image_id\}/tags'),
    ('Direct links', r'/direct-link$'),
    ('Usage', r'^/v2/info/usage$'),
    ('Cache', r'^/v2/cache'),
    ('Schemas', r'^/v2/schemas'),
    ('Metadata definitions', r'^/v2/metadefs'),
    ('Versions', r''),
)
HEADER = """.. Generated from doc/source/api/openapi.yaml by doc/source/_exts/openapi_ref.py at
   every build: edit openapi.yaml, not this file.

:tocdepth: 2

===================
Images API v2 (ref)
===================

Every operation glance-api serves, generated from the OpenAPI description
(:doc:`../api/index`). Status codes other than those listed come from the
middleware (401 without a valid token, 413 over a size limit, 503 while a dependency is
unavailable).

.. rest_expand_all::
"""


def _escape(text):
    text = ' '.join(str(text).split())
    return re.sub(r'([\\*`|_])', r'\\\1', text)


class _Spec:
    def __init__(self, path):
        with open(path) as f:
            self.spec = yaml.safe_load(f)

    def resolve(self, node):
        while isinstance(node, dict) and '$ref' in node:
            target = self.spec
            for part in node['$ref'].lstrip('#/').split('/'):
                target = target[part]
            node = target
        return node

    def operations(self):
        for path, item in self.spec['paths'].items():
            shared = item.get('parameters', [])
            for method in METHODS:
                if method in item:
                    yield path, method, item[method], shared

    def json_schema(self, holder):
        holder = self.resolve(holder or {})
        content = holder.get('content', {})
        for media_type, body in content.items():
            if 'json' in media_type:
                return self.resolve(body.get('schema', {}))
        return None


def _type(schema):
    kind = schema.get('type', 'object' if 'properties' in schema else 'string')
    if isinstance(kind, list):
        kind = ' or '.join(k for k in kind if k != 'null')
    return kind


def _describe(schema, fallback):
    """The OpenAPI description (escaped: it is plain text), else ``fallback`` (rst)."""
    text = _escape(schema['description']) if schema.get('description') else fallback
    if schema.get('enum'):
        text += ' One of: %s.' % ', '.join('``%s``' % v for v in schema['enum']
                                           if v is not None)
    return text


def _group(path):
    for title, pattern in GROUPS:
        if re.search(pattern, path):
            return title


def generate(srcdir):
    spec = _Spec(os.path.join(srcdir, 'api', 'openapi.yaml'))
    params = {}  # key -> definition
    groups = {title: [] for title, _ in GROUPS}
    for path, method, op, shared in spec.operations():
        opid = op['operationId']
        request, response = [], []
        for param in [spec.resolve(p) for p in shared + op.get('parameters', [])]:
            where = param['in'] if param['in'] != 'cookie' else 'header'
            key = '%s-%s' % (param['name'], where)
            schema = spec.resolve(param.get('schema', {}))
            params.setdefault(key, {
                'in': where, 'required': bool(param.get('required', where == 'path')),
                'type': _type(schema),
                'description': _describe(dict(schema, **param),
                                         'The ``%s`` %s parameter.' % (param['name'],
                                                                       where))})
            request.append((param['name'], key))
        for body, target, suffix in ((op.get('requestBody'), request, 'request'),
                                     (_success(op), response, 'response')):
            schema = spec.json_schema(body)
            if not schema:
                continue
            required = set(schema.get('required', []))
            for name, prop in sorted(schema.get('properties', {}).items()):
                prop = spec.resolve(prop)
                key = '%s-%s-%s' % (name, opid, suffix)
                params[key] = {'in': 'body', 'required': name in required,
                               'type': _type(prop),
                               'description': _describe(prop, '``%s`` in the %s body.'
                                                        % (name, suffix))}
                target.append((name, key))
        groups[_group(path)].append((path, method, op, request, response))

    out = os.path.join(srcdir, 'api-ref')
    os.makedirs(out, exist_ok=True)
    ordered = sorted(params.items(),
                     key=lambda kv: (SECTIONS.index(kv[1]['in']), kv[0].lower()))
    _write(os.path.join(out, 'parameters.yaml'),
           '# Generated from doc/source/api/openapi.yaml: edit that file.\n'
           + ''.join(yaml.safe_dump({k: v}, sort_keys=False, width=1000)
                     for k, v in ordered))
    lines = [HEADER]
    for title, operations in groups.items():
        if not operations:
            continue
        lines += ['', title, '=' * len(title), '']
        for path, method, op, request, response in operations:
            summary = _escape(op.get('summary') or op['operationId'])
            lines += [summary, '-' * len(summary), '',
                      '.. rest_method:: %s %s' % (method.upper(), path), '']
            if op.get('description'):
                lines += [_escape(op['description']), '']
            codes = sorted(str(c) for c in op.get('responses', {}))
            ok = [c for c in codes if c.startswith(('2', '3'))]
            errors = [c for c in codes if c.startswith(('4', '5'))]
            if ok:
                lines += ['Normal response codes: %s' % ', '.join(ok), '']
            if errors:
                lines += ['Error response codes: %s' % ', '.join(errors), '']
            for heading, entries in (('Request', request), ('Response', response)):
                if entries:
                    lines += ['**%s**' % heading, '', '.. rest_parameters:: parameters.yaml',
                              '']
                    lines += ['   - %s: %s' % (name, key) for name, key in entries]
                    lines += ['']
    _write(os.path.join(out, 'index.rst'), '\n'.join(lines) + '\n')


def _success(op):
    for code in sorted(op.get('responses', {}), key=str):
        if str(code).startswith('2'):
            return op['responses'][code]
    return None


def _write(path, text):
    """Write only on change: Sphinx rebuilds what changed."""
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path, 'w') as f:
        f.write(text)


def setup(app):
    app.connect('builder-inited', lambda app: generate(app.srcdir))
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
