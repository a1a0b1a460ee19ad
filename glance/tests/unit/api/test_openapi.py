"""doc/source/api/openapi.yaml describes exactly the paths and methods the v2 router serves."""

import importlib.util
import os
import re
import shutil
import tempfile

import testtools
import yaml

from glance.api.v2 import router

SPEC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'doc', 'source', 'api',
                    'openapi.yaml')
METHODS = ('get', 'put', 'post', 'delete', 'patch', 'head', 'options')


def _routed():
    """{(path, METHOD)} from the routes the router connects (not its 405 fallbacks)."""
    app = router.API.build()
    found = set()
    for route in app.mapper.matchlist:
        if route.defaults.get('action') == 'reject':
            continue
        for method in (route.conditions or {}).get('method', []):
            found.add((route.routepath, method.upper()))
    return found


def _api_ref_generator():
    """doc/source/_exts/openapi_ref.py, which builds the api-ref from openapi.yaml."""
    path = os.path.join(os.path.dirname(SPEC), '..', '_exts', 'openapi_ref.py')
    spec = importlib.util.spec_from_file_location('openapi_ref', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _described(spec):
    return {(path, method.upper()) for path, item in spec['paths'].items()
            for method in item if method in METHODS}


class TestOpenAPI(testtools.TestCase):

    def setUp(self):
        super().setUp()
        with open(SPEC) as f:
            self.spec = yaml.safe_load(f)

    def test_paths_and_methods_match_the_router(self):
        routed, described = _routed(), _described(self.spec)
        self.assertEqual(set(), routed - described, 'routed but not in openapi.yaml')
        self.assertEqual(set(), described - routed, 'in openapi.yaml but not routed')

    def test_document_shape(self):
        self.assertTrue(self.spec['openapi'].startswith('3.'))
        operation_ids = [item[m]['operationId'] for item in self.spec['paths'].values()
                         for m in item if m in METHODS]
        self.assertEqual(len(operation_ids), len(set(operation_ids)), 'duplicate operationId')
        for path, item in self.spec['paths'].items():
            for method in (m for m in item if m in METHODS):
                self.assertIn('responses', item[method], (path, method))
            # every {param} in a path is declared
            params = [p for p in item.get('parameters', [])]
            names = {self._resolve(p)['name'] for p in params}
            for segment in path.split('/'):
                if segment.startswith('{'):
                    self.assertIn(segment.strip('{}'), names, path)

    def _resolve(self, node):
        if '$ref' in node:
            target = self.spec
            for part in node['$ref'].lstrip('#/').split('/'):
                target = target[part]
            return target
        return node

    def test_api_ref_has_every_operation_with_its_path_parameters(self):
        srcdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, srcdir)
        os.makedirs(os.path.join(srcdir, 'api'))
        shutil.copy(SPEC, os.path.join(srcdir, 'api'))
        _api_ref_generator().generate(srcdir)
        with open(os.path.join(srcdir, 'api-ref', 'index.rst')) as f:
            text = f.read()
        with open(os.path.join(srcdir, 'api-ref', 'parameters.yaml')) as f:
            params = yaml.safe_load(f)
        methods = set(re.findall(r'^\.\. rest_method:: (\w+) (\S+)$', text, re.M))
        self.assertEqual({(m, p) for p, m in _described(self.spec)}, methods)
        used = set(re.findall(r'^   - \S+: (\S+)$', text, re.M))
        self.assertEqual(set(), used - set(params), 'parameters without a definition')
        for name in ('image_id', 'member_id', 'namespace'):
            self.assertEqual('path', params['%s-path' % name]['in'])
