"""Dependencies point one way, and no module imports itself back through another.

glance-api's code (glance/api, glance/image, glance/metadef) never imports glance/stream;
glance/image and glance/metadef never import glance/api; glance/common, glance/db and
glance/store import neither. Module-level imports between glance's own modules form no cycle.
"""

import ast
import os

import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FORBIDDEN = {
    'glance.api': ('glance.stream',),
    'glance.image': ('glance.stream', 'glance.api'),
    'glance.metadef': ('glance.stream', 'glance.api', 'glance.image', 'glance.store'),
    'glance.common': ('glance.stream', 'glance.api', 'glance.image'),
    'glance.db': ('glance.stream', 'glance.api', 'glance.image', 'glance.store'),
    'glance.store': ('glance.stream', 'glance.api', 'glance.image'),
}


def _modules():
    for dirpath, _dirs, files in os.walk(ROOT):
        if os.sep + 'tests' in dirpath or 'migrations' in dirpath:
            continue
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, '.')
                yield rel[:-len('.__init__')] if rel.endswith('.__init__') else rel, path


def _imports(path, module_names, all_imports=True):
    """glance modules imported by the file (module level only unless all_imports)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    nodes = ast.walk(tree) if all_imports else tree.body
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + ['%s.%s' % (node.module, a.name) for a in node.names]
        else:
            continue
        for name in names:
            if name in module_names:
                found.add(name)
    return found


class TestDependencyDirection(testtools.TestCase):

    def test_no_upward_imports(self):
        modules = dict(_modules())
        wrong = []
        for module, path in sorted(modules.items()):
            for package, forbidden in FORBIDDEN.items():
                if module == package or module.startswith(package + '.'):
                    for imported in _imports(path, modules):
                        if imported.startswith(forbidden):
                            wrong.append('%s imports %s' % (module, imported))
        self.assertEqual([], wrong)

    def test_no_import_cycles(self):
        modules = dict(_modules())
        graph = {m: _imports(p, modules, all_imports=False) - {m} for m, p in modules.items()}
        # a package's __init__ importing its own modules is not a cycle worth reporting
        cycles = []
        state = {}

        def visit(node, stack):
            state[node] = 'active'
            stack.append(node)
            for nxt in sorted(graph.get(node, ())):
                if state.get(nxt) == 'active':
                    cycle = stack[stack.index(nxt):] + [nxt]
                    if not all(c == cycle[0] or c.startswith(cycle[0] + '.') or
                               cycle[0].startswith(c + '.') for c in cycle):
                        cycles.append(' -> '.join(cycle))
                elif nxt not in state:
                    visit(nxt, stack)
            stack.pop()
            state[node] = 'done'

        for module in sorted(graph):
            if module not in state:
                visit(module, [])
        self.assertEqual([], cycles)
