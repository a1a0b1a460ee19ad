"""OpenStack Image service, split into glance-api and glance-stream."""

import warnings

# eventlet warns on import that it is deprecated; the stack is fixed by the project's owner,
# so the warning only adds noise to every command's output.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
