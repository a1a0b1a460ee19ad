"""Sphinx configuration for the release notes (reno)."""

extensions = ['reno.sphinxext']
project = 'Glance (split) release notes'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
html_theme = 'alabaster'
