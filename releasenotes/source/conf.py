"""Sphinx configuration for the release notes (reno, openstackdocstheme).

Until the repository has a release tag, reno files every note under "0.0.0" (and notes not
yet committed under "unreleased"): both are titled here with the package version pbr gives
the tree instead (for example ``0.0.1.dev120``), the version ``pip`` installs.
"""

import os
import sys

sys.path.insert(0, os.path.abspath('../..'))

extensions = ['openstackdocstheme', 'reno.sphinxext']
project = 'Glance (split) release notes'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
html_theme = 'openstackdocs'
openstackdocs_repo_name = 'openstack/glance'
openstackdocs_use_storyboard = False
openstackdocs_bug_project = 'glance'
openstackdocs_bug_tag = 'releasenotes'
openstackdocs_auto_name = False


def _package_version():
    try:
        import pbr.version
        return pbr.version.VersionInfo('glance-split').version_string_with_vcs()
    except Exception:
        from importlib import metadata
        return metadata.version('glance-split')


version = release = _package_version()


def _substitute_version(app, docname, source):
    source[0] = source[0].replace('@PACKAGE_VERSION@', release)


def _retitle_untagged(app, doctree):
    from docutils import nodes
    for title in doctree.findall(nodes.title):
        if title.astext() == '0.0.0':
            title.children = [nodes.Text(release)]


def setup(app):
    app.connect('source-read', _substitute_version)
    app.connect('doctree-read', _retitle_untagged)
