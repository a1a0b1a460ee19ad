"""``GET /v2/housekeeping/metrics``: what the scrubber, crash recovery and the audit did.

Admin only (``housekeeping_metrics``). The counters are the deployment's, read from the
database (glance.image.housekeeping_metrics), so every glance-api gives the same answer;
``scrubber`` says which host holds the scrubber lease now, if any.
"""

from glance.api import resource
from glance.db import housekeeping as housekeeping_db
from glance.image import housekeeping_metrics
from glance.image import recovery
from glance import policy


class Controller:

    def metrics(self, req):
        policy.enforce(req.context, 'housekeeping_metrics',
                       {'project_id': req.context.project_id})
        body = housekeeping_metrics.read()
        lease = housekeeping_db.lease_holder(recovery.SCRUB_LEASE)
        body['scrubber'] = ({'holder': lease[0], 'lease_expires_at': lease[1].isoformat()}
                            if lease else None)
        return body


def create_resource():
    return resource.Resource(Controller())
