"""Configuration shared by glance-api, glance-stream and glance-manage.

Options that belong to one piece of code are declared beside it; this module holds only the
process-wide ones (state directory, standalone identity, paste loading) and the helpers that
parse the command line and load a Paste pipeline.
"""

import os
import re
import sys

from oslo_config import cfg
from oslo_log import log as logging
from oslo_middleware import cors
from paste import deploy

from glance.common import exception

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

common_opts = [
    cfg.StrOpt('state_path',
               default=os.path.join(os.path.expanduser('~'), '.local', 'share', 'glance'),
               sample_default='~/.local/share/glance',
               help='Directory where glance keeps its state: the SQLite database by default, '
                    'the file store and the stream cache unless they are configured elsewhere. '
                    'Created at start if it does not exist.'),
    cfg.StrOpt('noauth_project_id', default='standalone',
               help='Project that every request belongs to in the standalone ("noauth") '
                    'paste flavor, where no Keystone validates tokens. A request may still '
                    'name its project with the X-Project-Id header.'),
    cfg.StrOpt('noauth_user_id', default='standalone',
               help='User id given to requests in the standalone ("noauth") paste flavor.'),
    cfg.ListOpt('noauth_roles', default=['admin', 'member', 'reader'],
                help='Roles given to requests in the standalone ("noauth") paste flavor. '
                     'The defaults satisfy the secure-RBAC policy defaults, so every API '
                     'call works without Keystone. A request may override them with the '
                     'X-Roles header, which is how tests exercise other roles.'),
]

paste_deploy_opts = [
    cfg.StrOpt('flavor', default='keystone',
               help='Paste pipeline flavor: "keystone" validates Keystone tokens with '
                    'keystonemiddleware; "noauth" runs every request as the standalone '
                    'project (see noauth_project_id) and must only be used on a trusted '
                    'network or for development. The pipeline used is '
                    '"<service>-<flavor>" in the paste file.'),
    cfg.StrOpt('config_file',
               help='Paste configuration file. Defaults to <service>-paste.ini found next '
                    'to the service configuration file, then in /etc/glance and in the '
                    'etc/ directory of the source tree.'),
]

CONF.register_opts(common_opts)
CONF.register_opts(paste_deploy_opts, group='paste_deploy')


# Client libraries of the stores that log secrets at DEBUG: botocore the signature of every
# request it signs (so of every presigned direct link), swiftclient its requests' headers
# (X-Auth-Token). Kept at WARNING even with debug = true.
QUIET_LIBRARIES = ['botocore=WARN', 'boto3=WARN', 's3transfer=WARN', 'swiftclient=WARN']


def set_config_defaults():
    """Defaults of library options that suit glance better than the libraries' own."""
    logging.set_defaults(default_log_levels=logging.get_default_log_levels() + QUIET_LIBRARIES)
    cors.set_defaults(
        allow_headers=['Content-MD5', 'X-Image-Meta-Checksum', 'X-Storage-Token',
                       'Accept-Encoding', 'X-Auth-Token', 'X-Identity-Status', 'X-Roles',
                       'X-Service-Catalog', 'X-User-Id', 'X-Tenant-Id', 'X-OpenStack-Request-ID'],
        expose_headers=['X-Image-Meta-Checksum', 'X-Auth-Token', 'X-Subject-Token',
                        'X-Service-Token', 'X-OpenStack-Request-ID'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])


def parse_args(argv=None, prog=None, default_config_files=None, usage=None):
    """Parse the command line and config files into CONF, and set logging up."""
    logging.register_options(CONF)
    set_config_defaults()
    from glance import version  # noqa: late import keeps pbr out of module import time
    CONF(argv if argv is not None else sys.argv[1:], project='glance', prog=prog,
         version=version.version_string(), usage=usage,
         default_config_files=default_config_files)


def setup_logging(prog):
    logging.setup(CONF, prog)


def ensure_state_path():
    os.makedirs(CONF.state_path, exist_ok=True)
    return CONF.state_path


def _paste_config_file(service):
    if CONF.paste_deploy.config_file:
        path = CONF.paste_deploy.config_file
        if not os.path.isabs(path):
            path = CONF.find_file(path) or os.path.abspath(path)
        return path
    name = '%s-paste.ini' % service
    candidates = []
    if CONF.config_file:
        candidates.append(os.path.join(os.path.dirname(os.path.abspath(CONF.config_file[-1])),
                                       name))
    candidates.append(os.path.join('/etc/glance', name))
    candidates.append(os.path.join(os.path.dirname(__file__), '..', '..', 'etc', name))
    for path in candidates:
        if os.path.exists(path):
            return os.path.abspath(path)
    raise exception.ConfigError(reason='paste file %s not found (looked in %s)'
                                % (name, ', '.join(candidates)))


# paste.deploy's words for a section it looked for and did not find.
_MISSING_SECTION = re.compile(r"No section '(?P<name>[^']+)' \(prefixed by (?P<kinds>[^)]*)\)")


def _missing_section_reason(error, pipeline, conf_file):
    """One sentence for a LookupError of paste.deploy, or None if it is not a missing section.

    The pipeline itself missing means the flavor is wrong; anything else missing is a name
    the pipeline refers to (a filter, an app) without the section that declares it.
    """
    match = _MISSING_SECTION.search(str(error))
    if match is None:
        return None
    name = match.group('name')
    if name == pipeline:
        return ('%s has no pipeline "%s": is [paste_deploy] flavor "%s" right?'
                % (conf_file, pipeline, CONF.paste_deploy.flavor))
    kind = 'filter' if "'filter'" in match.group('kinds') else 'app'
    return ('%s: the pipeline "%s" names the %s "%s", which has no [%s:%s] section: '
            'declare it or remove it from the pipeline'
            % (conf_file, pipeline, kind, name, kind, name))


def load_paste_app(service):
    """Load the "<service>-<flavor>" pipeline of the service's paste file."""
    conf_file = _paste_config_file(service)
    flavor = CONF.paste_deploy.flavor
    name = '%s-%s' % (service, flavor) if flavor else service
    try:
        return deploy.loadapp('config:%s' % conf_file, name=name)
    except LookupError as e:
        raise exception.ConfigError(
            reason=_missing_section_reason(e, name, conf_file)
            or 'cannot load pipeline "%s" from %s: %s' % (name, conf_file, e))
    except exception.GlanceException:
        raise
    except Exception as e:
        LOG.debug('Loading %s from %s failed', name, conf_file, exc_info=True)
        raise exception.ConfigError(reason='cannot load pipeline "%s" from %s: %s: %s'
                                    % (name, conf_file, type(e).__name__, e))


def list_opts():
    return [(None, common_opts), ('paste_deploy', paste_deploy_opts)]
