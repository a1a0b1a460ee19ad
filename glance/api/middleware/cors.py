"""oslo.middleware's CORS filter, reading the service's own configuration.

oslo.middleware's paste factory either takes the allowed origin from the paste file or
reloads configuration files by project name, missing files given with ``--config-file``;
this factory hands it the configuration the service already parsed (``[cors]`` options).
"""

from oslo_config import cfg
from oslo_middleware import cors


def filter_factory(global_conf, **local_conf):
    def _filter(app):
        return cors.CORS(app, cfg.CONF)
    return _filter
