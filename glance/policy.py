"""The policy enforcer: the rules from glance.policies, overridable by policy.yaml."""

import time

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from glance.common import exception
from glance import policies

CONF = cfg.CONF
_ENFORCER = None

policy_opts.set_defaults(CONF, 'policy.yaml')


class _Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking for policy file changes at most once a second.

    The stock enforcer searches the config directories for the policy file and stats it at
    every check; a server checks several rules per request.
    """

    _RELOAD_CHECK_INTERVAL = 1.0
    _last_check = 0.0

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if (not force_reload and self.rules
                and now - self._last_check < self._RELOAD_CHECK_INTERVAL):
            return
        self._last_check = now
        super().load_rules(force_reload)


def get_enforcer():
    """The process-wide enforcer (also the oslo.policy.enforcer entry point)."""
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = _Enforcer(CONF)
        _ENFORCER.register_defaults(policies.list_rules())
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None


def check(context, rule, target=None):
    """True if the rule passes for the caller; never raises for a denial."""
    target = target if target is not None else {'project_id': context.project_id}
    return get_enforcer().enforce(rule, target, context, do_raise=False)


def enforce(context, rule, target=None):
    """Raise Forbidden if the rule denies the caller."""
    if not check(context, rule, target):
        raise exception.Forbidden('Policy does not allow %s to be performed.' % rule)
