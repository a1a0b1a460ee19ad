"""Build a service's paste application for an external WSGI server."""

import os

from glance.common import config


def init(service):
    """Parse config (GLANCE_CONFIG_FILE or the default search path), set logging, load."""
    files = os.environ.get('GLANCE_CONFIG_FILE')
    argv = []
    for path in (files.split(',') if files else []):
        argv += ['--config-file', path]
    config.parse_args(argv, prog=service)
    config.setup_logging('glance')
    config.ensure_state_path()
    return config.load_paste_app(service)
