"""schemathesis against real servers, driven by the API's OpenAPI description.

A bounded run (fixed seed, a few hundred generated requests per operation at most, well under
two minutes) of every operation in doc/source/api/openapi.yaml against a real glance-api and
glance-stream: no 5xx (schemathesis' server-error checks) and no traceback in either log.
A longer run for developers: see doc/source/contributor/testing.rst.
"""

import os
import shutil
import subprocess
import sys

from glance.tests.functional import base

SPEC = os.path.join(base.ROOT, 'doc', 'source', 'api', 'openapi.yaml')
SEED = '20261202'


class TestSchemathesis(base.FunctionalTest):

    server_kwargs = {'workers': 1, 'common_conf': {'DEFAULT': {'debug': 'false'}}}

    def test_no_server_error(self):
        tool = os.path.join(os.path.dirname(sys.executable), 'schemathesis')
        if not os.path.exists(tool):
            tool = shutil.which('schemathesis')
        if tool is None:
            self.skipTest('schemathesis is not installed (test-requirements.txt has it)')
        if not os.path.exists(SPEC):
            self.skipTest('no OpenAPI description at %s' % SPEC)
        result = subprocess.run(
            [tool, 'run', SPEC, '--url', self.servers.api_url,
             '-H', 'X-Project-Id: fuzz', '-H', 'X-Roles: admin,member,reader',
             '--checks', 'not_a_server_error', '--seed', SEED, '--max-examples', '30',
             '--phases', 'examples,coverage,fuzzing', '--no-color', '--workers', '2'],
            capture_output=True, text=True, timeout=600, cwd=self.servers.dir)
        output = result.stdout + result.stderr
        self.assertNotIn('Server error', output, output[-8000:])
        self.assertIn('generated', output, output[-3000:])  # it did run cases
        for server in (self.servers.api, self.servers.stream):
            self.assertNotIn('Traceback', server.log(), server.name)
