"""doc/source/api/openapi.yaml describes exactly the paths and methods the v2 router serves."""

import os

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
