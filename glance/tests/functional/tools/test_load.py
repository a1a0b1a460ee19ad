"""tools/load/load.py against real servers: a short bounded run reports every call, no errors."""

import os
import subprocess
import sys

from glance.tests.functional import base

LOAD = os.path.join(base.ROOT, 'tools', 'load', 'load.py')


class TestLoadTool(base.FunctionalTest):

    server_kwargs = {'stream': True}

    def test_short_run(self):
        result = subprocess.run(
            [sys.executable, LOAD, '--api', self.servers.api_url, '--clients', '2',
             '--duration', '3', '--size', '4096', '--pid', str(self.servers.api.proc.pid),
             '--pid', str(self.servers.stream.proc.pid)],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        for op in ('show', 'list', 'create', 'upload', 'download', 'delete'):
            self.assertRegex(result.stdout, r'\n%s +[1-9]\d* +0 ' % op)
        self.assertIn('RSS pid %d' % self.servers.api.proc.pid, result.stdout)
        # the images it made for reading are gone again
        listed = subprocess.run(['curl', '-s', self.servers.api_url + '/v2/images',
                                 '-H', 'X-Project-Id: load-test'],
                                capture_output=True, text=True, timeout=30).stdout
        self.assertIn('"images": []', listed)

    def test_bounds_are_enforced(self):
        result = subprocess.run([sys.executable, LOAD, '--clients', '100000'],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(2, result.returncode)
        self.assertIn('bounds', result.stderr)
