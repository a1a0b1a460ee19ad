"""The sample configs and policy in etc/ are what the generators write today."""

import os
import subprocess
import sys
import tempfile

import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)


class TestSamplesAreGenerated(testtools.TestCase):

    def _check(self, tool, generator_conf, sample):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sample')
            subprocess.run([os.path.join(BIN, tool), '--config-file',
                            os.path.join(ROOT, generator_conf), '--output-file', out],
                           cwd=ROOT, check=True, capture_output=True)
            with open(out) as f:
                fresh = f.read()
        with open(os.path.join(ROOT, sample)) as f:
            self.assertEqual(fresh, f.read(),
                             '%s is stale: run tox -e genconfig / genpolicy' % sample)

    def test_config_samples(self):
        for service in ('api', 'stream', 'manage'):
            self._check('oslo-config-generator',
                        'etc/oslo-config-generator/glance-%s.conf' % service,
                        'etc/glance-%s.conf.sample' % service)

    def test_policy_sample(self):
        self._check('oslopolicy-sample-generator', 'etc/oslo-policy-generator/policy.conf',
                    'etc/policy.yaml.sample')
