"""Property protections: who may create, read, update and delete which custom properties.

An operator lists rules in an ini file named by ``property_protection_file``: one section
per property name pattern (a Python regular expression, matched with ``re.search`` as
upstream Glance does, so anchor it with ``^`` and ``$`` to match whole names), and in it
``create``, ``read``, ``update`` and ``delete``, each saying who may do that::

    [^x_billing_.*]
    create = admin,billing
    read = admin,billing,member,reader
    update = admin,billing
    delete = admin

    [.*]
    create = @
    read = @
    update = @
    delete = @

With ``property_protection_rule_format = roles`` a value is a comma-separated list of
roles (the caller needs one of them); with ``policies`` it is the name of one policy rule
(defined in policy.yaml). In both formats ``@`` means everyone and ``!`` nobody.

The first section whose pattern matches a property decides; a property that matches no
section may not be touched or seen at all, so end the file with a ``[.*]`` section. An
operation a section leaves out is allowed to nobody (and logged at start).

Only custom properties are protected (the image's core fields have their own rules). A
property the caller may not read is left out of image show and list, and is kept as it
is by a PATCH the caller sends. A denied create, update or delete is a 403 that names the
property. The file is read when glance-api starts and again on SIGHUP; a bad file stops
it starting (and a SIGHUP with a bad file keeps the workers and the rules they have).
"""

import configparser
import re

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance import policy

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

protection_opts = [
    cfg.StrOpt('property_protection_file',
               help='Ini file of property protection rules (see the admin guide\'s '
                    '"Property protections" page). When unset, any caller who may change '
                    'an image may set any custom property on it, and everyone who may see '
                    'an image sees all of its properties.'),
    cfg.StrOpt('property_protection_rule_format', default='roles',
               choices=[('roles', 'each rule value is a comma-separated list of roles'),
                        ('policies', 'each rule value is the name of a policy rule from '
                                     'policy.yaml')],
               help='How the values of property_protection_file are read.'),
]
CONF.register_opts(protection_opts)

ACTIONS = ('create', 'read', 'update', 'delete')
EVERYONE = '@'
NOBODY = '!'

_loaded = {}  # (path, format) -> [(pattern, section, {action: rule})]


def _parse_value(section, action, value, rule_format):
    values = [v.strip() for v in value.split(',') if v.strip()]
    if not values:
        raise exception.ConfigError(reason='property protection [%s] %s is empty; use %s '
                                           'for nobody' % (section, action, NOBODY))
    if (EVERYONE in values or NOBODY in values) and len(values) > 1:
        raise exception.ConfigError(
            reason='property protection [%s] %s: "%s" and "%s" stand alone, not in a list'
                   % (section, action, EVERYONE, NOBODY))
    if values[0] in (EVERYONE, NOBODY):
        return values[0]
    if rule_format == 'policies':
        if len(values) > 1:
            raise exception.ConfigError(
                reason='property protection [%s] %s: the policies format takes one policy '
                       'rule name' % (section, action))
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        if values[0] not in enforcer.rules:
            raise exception.ConfigError(
                reason='property protection [%s] %s names policy rule "%s", which '
                       'policy.yaml does not define' % (section, action, values[0]))
        return values[0]
    return frozenset(v.lower() for v in values)


def _read(path, rule_format):
    parser = configparser.RawConfigParser()
    try:
        if not parser.read(path):
            raise exception.ConfigError(
                reason='property_protection_file %s cannot be read' % path)
    except configparser.Error as e:
        raise exception.ConfigError(reason='property_protection_file %s: %s' % (path, e))
    rules = []
    for section in parser.sections():
        try:
            pattern = re.compile(section)
        except re.error as e:
            raise exception.ConfigError(
                reason='property protection section [%s] is not a regular expression: %s'
                       % (section, e))
        actions = {}
        for action in ACTIONS:
            if parser.has_option(section, action):
                actions[action] = _parse_value(section, action,
                                               parser.get(section, action), rule_format)
            else:
                LOG.warning('Property protection [%s] has no "%s": nobody may %s the '
                            'properties it matches.', section, action, action)
                actions[action] = NOBODY
        unknown = set(parser.options(section)) - set(ACTIONS)
        if unknown:
            raise exception.ConfigError(
                reason='property protection [%s] has unknown operations %s (expected %s)'
                       % (section, ', '.join(sorted(unknown)), ', '.join(ACTIONS)))
        rules.append((pattern, section, actions))
    return rules


def load():
    """The rules of the configured file (None when none is configured), read once.

    Called when glance-api builds its application, so a bad file is found at start.
    """
    path = CONF.property_protection_file
    if not path:
        return None
    key = (path, CONF.property_protection_rule_format)
    if key not in _loaded:
        _loaded[key] = _read(path, CONF.property_protection_rule_format)
        LOG.info('Property protections: %d rules from %s (%s)', len(_loaded[key]), path,
                 CONF.property_protection_rule_format)
    return _loaded[key]


def reload():
    """Read the configured file again.

    glance-api builds its application at start and on SIGHUP, so edited rules apply after
    a SIGHUP.
    """
    reset()
    return load()


def is_allowed(context, name, action, owner=None):
    """True if the caller may ``action`` (create, read, update, delete) property ``name``."""
    rules = load()
    if rules is None:
        return True
    for pattern, _section, actions in rules:
        if pattern.search(name):
            rule = actions[action]
            break
    else:
        return False  # no rule for the property: nobody may touch it
    if rule == EVERYONE:
        return True
    if rule == NOBODY:
        return False
    if isinstance(rule, frozenset):
        return bool(rule & {r.lower() for r in context.roles})
    target = {'project_id': owner or context.project_id}
    return policy.check(context, rule, target)


def split_readable(context, image):
    """(readable, hidden): the image's custom properties the caller may and may not read."""
    properties = image['properties']
    if load() is None:
        return dict(properties), {}
    readable, hidden = {}, {}
    for name, value in properties.items():
        target = readable if is_allowed(context, name, 'read', image['owner']) else hidden
        target[name] = value
    return readable, hidden


def shown(context, image):
    """The image with only the custom properties the caller may read."""
    if load() is None:
        return image
    readable, _hidden = split_readable(context, image)
    return dict(image, properties=readable)


def _require(context, name, action, owner):
    if not is_allowed(context, name, action, owner):
        raise exception.PropertyProtected(action=action, property=name)


def check_create(context, properties, owner):
    """Raise PropertyProtected (403) unless the caller may create every property given."""
    if load() is None:
        return
    for name in properties:
        _require(context, name, 'create', owner)


def check_changes(context, readable, hidden, new, owner):
    """Check a whole new set of custom properties against what the caller could see.

    ``readable`` and ``hidden`` are split_readable's halves of the current properties,
    ``new`` what the caller wants them to be. Returns the properties to store: ``new``
    plus the hidden ones, which a caller who cannot see them cannot have meant to change.
    """
    if load() is None:
        return new
    for name, value in new.items():
        if name in readable:
            if readable[name] != value:
                _require(context, name, 'update', owner)
        elif name in hidden:
            _require(context, name, 'update', owner)
        else:
            _require(context, name, 'create', owner)
    for name in readable:
        if name not in new:
            _require(context, name, 'delete', owner)
    stored = dict(hidden)
    stored.update(new)
    return stored


def reset():
    """Forget the rules read (tests that change the configuration)."""
    _loaded.clear()


def list_opts():
    return [(None, protection_opts)]
