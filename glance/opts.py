"""Every option of every service, for oslo-config-generator (see etc/oslo-config-generator/)."""

import itertools

from glance.api.middleware import context
from glance.api.v2 import image_data
from glance.api.v2 import image_schema
from glance.api.v2 import list_params
from glance.api import versions
from glance.common import config
from glance.common import http
from glance.common import notifier
from glance.common import pieces
from glance.common import stream_nodes as nodes
from glance.common import ticket
from glance.common import wsgi
from glance.db import api as db_api
from glance.image import audit
from glance.image import data
from glance.image import direct_link
from glance.image import glance_download
from glance.image import import_plugins
from glance.image import imports
from glance.image import inspection
from glance.image import keystone_limits
from glance.image import location_hash
from glance.image import property_protections
from glance.image import quota
from glance.image import recovery
from glance.image import service
from glance.image import staging
from glance.image import task_runner
from glance.image import web_fetch
from glance.metadef import catalog
from glance.store import backend
from glance.store import links
from glance.store import reader
from glance.stream import cache


def _merge(*lists):
    """Merge [(group, opts)] lists into one, one entry per group."""
    groups = {}
    for group, opts in itertools.chain(*lists):
        groups.setdefault(group, []).extend(opts)
    return [(group, opts) for group, opts in groups.items()]


def list_api_opts():
    return _merge(config.list_opts(), wsgi.list_opts(), context.list_opts(),
                  versions.list_opts(), db_api.list_opts(), image_schema.list_opts(),
                  list_params.list_opts(), quota.list_opts(), service.list_opts(),
                  data.list_opts(), recovery.list_opts(), backend.list_opts(),
                  ticket.list_opts(), nodes.list_opts(), image_data.list_opts(),
                  direct_link.list_opts(), links.list_opts(), pieces.list_opts(),
                  reader.list_opts(), inspection.list_opts(), catalog.list_opts(),
                  property_protections.list_opts(), imports.list_opts(),
                  staging.list_opts(), task_runner.list_opts(), web_fetch.list_opts(),
                  import_plugins.list_opts(), glance_download.list_opts(),
                  notifier.list_opts(), keystone_limits.list_opts(), http.list_opts(),
                  audit.list_opts(), location_hash.list_opts())


def list_stream_opts():
    return _merge(config.list_opts(), wsgi.list_opts(), db_api.list_opts(),
                  backend.list_opts(), ticket.list_opts(), cache.list_opts(),
                  pieces.list_opts(), reader.list_opts(), notifier.list_opts())


def list_manage_opts():
    return _merge(config.list_opts(), db_api.list_opts(), backend.list_opts(),
                  ticket.list_opts(), nodes.list_opts(), links.list_opts(),
                  catalog.list_opts(), http.list_opts(), recovery.list_opts(),
                  audit.list_opts())
