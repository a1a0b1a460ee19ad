"""The machine's RabbitMQ for functional tests: a listener on an exchange of the test's own.

``listen(test, topic)`` starts oslo.messaging's notification listener (a real consumer, as
Ceilometer is one) on a new exchange and returns the collector of what arrives and the
exchange name to give the servers (``[DEFAULT] control_exchange``); the queues and the
exchange are deleted at cleanup. A test fails where RabbitMQ is installed but down
(tools/ensure-rabbitmq.sh starts it) and skips where it is not installed.
"""

import shutil
import socket
import threading
import time
import uuid

import kombu
from oslo_config import cfg
import oslo_messaging

URL = 'rabbit://guest:guest@127.0.0.1:5672/'
PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample')


def require(test):
    try:
        socket.create_connection(('127.0.0.1', 5672), timeout=2).close()
    except OSError:
        if shutil.which('rabbitmq-server'):
            test.fail('RabbitMQ is installed but does not answer on 127.0.0.1:5672 '
                      '(tools/ensure-rabbitmq.sh starts it)')
        test.skipTest('no RabbitMQ on 127.0.0.1:5672 (Debian package rabbitmq-server)')


class Collector:
    """oslo.messaging listener endpoint: keeps (priority, event_type, payload, publisher)."""

    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def _keep(self, priority, publisher_id, event_type, payload):
        with self.lock:
            self.events.append((priority, event_type, payload, publisher_id))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._keep('info', publisher_id, event_type, payload)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._keep('error', publisher_id, event_type, payload)

    def wait_for(self, test, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.1)
        test.fail('expected %d notifications in %ss, got %d: %s'
                  % (count, timeout, len(self.events), [e[1] for e in self.events]))


def listen(test, topic):
    """(collector, exchange): a listener on ``topic`` in a new exchange, until cleanup."""
    require(test)
    exchange = 'glance-test-' + uuid.uuid4().hex[:12]
    conf = cfg.ConfigOpts()
    conf([], project='glance-test')
    transport = oslo_messaging.get_notification_transport(conf, url=URL)
    collector = Collector()
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic, exchange=exchange)], [collector],
        executor='threading')
    listener.start()
    test.addCleanup(_delete, exchange, topic)
    test.addCleanup(transport.cleanup)
    test.addCleanup(listener.wait)
    test.addCleanup(listener.stop)
    return collector, exchange


def _delete(exchange, topic):
    with kombu.Connection(URL.replace('rabbit', 'amqp', 1) + '/', connect_timeout=5) as conn:
        channel = conn.channel()
        for priority in PRIORITIES:
            channel.queue_delete('%s.%s' % (topic, priority))
        channel.exchange_delete(exchange)
