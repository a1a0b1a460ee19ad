"""The request context: who is calling, from which project, with which roles."""

from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context with glance's notion of an admin (the policy decides)."""

    def __init__(self, service_catalog=None, policy_enforcer=None, **kwargs):
        super().__init__(**kwargs)
        self.service_catalog = service_catalog
        if kwargs.get('is_admin') is None:
            from glance import policy
            self.is_admin = policy.check(self, 'context_is_admin', {})

    @property
    def owner(self):
        """The project that owns what this caller creates."""
        return self.project_id

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values


def get_admin_context():
    return RequestContext(is_admin=True, roles=['admin'], overwrite=False)
