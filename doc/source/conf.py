"""Sphinx configuration for the glance-split documentation (openstackdocstheme)."""

import os
import sys

sys.path.insert(0, os.path.abspath('../..'))
sys.path.insert(0, os.path.abspath('_exts'))

extensions = [
    'openstackdocstheme',
    'os_api_ref',
    'sphinxarg.ext',
    'oslo_config.sphinxext',
    'oslo_policy.sphinxext',
    'openapi_ref',
]

project = 'Glance (split)'
copyright = 'OpenStack Foundation and the glance-split developers'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'native'
html_theme = 'openstackdocs'
html_static_path = []

# openstackdocstheme: links to the repository and bug tracker, and the version shown.
openstackdocs_repo_name = 'openstack/glance'
openstackdocs_pdf_link = False
openstackdocs_use_storyboard = False
openstackdocs_bug_project = 'glance'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False

# oslo.policy's sphinxext renders the rules of this generator config.
policy_generator_config_file = '../../etc/oslo-policy-generator/policy.conf'
