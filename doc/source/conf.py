"""Sphinx configuration for the glance-split documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath('../..'))

extensions = [
    'oslo_config.sphinxext',
    'oslo_policy.sphinxext',
]

project = 'Glance (split)'
copyright = 'OpenStack Foundation and the glance-split developers'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'sphinx'
html_theme = 'alabaster'
html_static_path = []
# oslo.policy's sphinxext renders the rules of this generator config.
policy_generator_config_file = '../../etc/oslo-policy-generator/policy.conf'
