"""osprofiler, enabled: one trace follows a client call through glance-api into glance-stream.

Both servers run with ``[profiler] enabled`` and an HMAC key, sending trace points with
osprofiler's ``messaging://`` driver to the machine's RabbitMQ, where the test listens on
an exchange of its own. A call signed with the key is traced in both servers under one
base id; an unsigned call is not traced at all. (Off by default: test_request_ids.)
"""

import uuid

from osprofiler import profiler
from osprofiler import web
import requests

from glance.tests.functional import base
from glance.tests.functional import broker

ADMIN = {'X-Roles': 'admin,member,reader', 'X-Project-Id': 'ops'}
KEY = 'profiler-test-key'


class TestProfiler(base.FunctionalTest):

    def setUp(self):
        self.collector, exchange = broker.listen(self, 'profiler')
        self.server_kwargs = {'stream': True, 'common_conf': {
            'DEFAULT': {'control_exchange': exchange, 'transport_url': broker.URL},
            'profiler': {'enabled': 'true', 'hmac_keys': KEY,
                         'connection_string': 'messaging://'}}}
        super().setUp()

    def test_one_trace_through_both_servers(self):
        requests.get(self.servers.api_url + '/v2/cache', headers=ADMIN, timeout=30)
        base_id = str(uuid.uuid4())
        profiler.init(KEY, base_id=base_id)
        self.addCleanup(profiler.clean)
        headers = dict(ADMIN, **web.get_trace_id_headers())
        resp = requests.get(self.servers.api_url + '/v2/cache', headers=headers, timeout=30)
        self.assertEqual(200, resp.status_code, resp.text)
        # wsgi start and stop in glance-api, and in glance-stream for the call it made
        events = self.collector.wait_for(self, 4)
        services = {}
        for _priority, event_type, payload, _publisher in events:
            self.assertEqual(base_id, payload['base_id'])  # the unsigned call sent nothing
            services.setdefault(event_type, []).append(payload['name'])
        self.assertEqual({'profiler.glance-api', 'profiler.glance-stream'}, set(services))
        self.assertIn('wsgi-start', services['profiler.glance-stream'])
