"""Download tickets: signed, bound to one image and method, expiring, rotatable."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.common import exception
from glance.common import ticket

CONF = cfg.CONF


class TestTicket(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(ticket_key='k1' * 16, ticket_key_previous=None, group='stream')

    def test_round_trip(self):
        token = ticket.sign('img', 'proj', is_admin=True, now=1000)
        claims = ticket.verify(token, 'img', now=1010)
        self.assertEqual('proj', claims['project_id'])
        self.assertTrue(claims['is_admin'])
        self.assertEqual(1060, claims['expires'])

    def test_expired(self):
        token = ticket.sign('img', 'proj', now=1000)
        self.assertRaises(exception.InvalidTicket, ticket.verify, token, 'img', now=1061)

    def test_other_image_or_method(self):
        token = ticket.sign('img', 'proj')
        self.assertRaises(exception.InvalidTicket, ticket.verify, token, 'other')
        self.assertRaises(exception.InvalidTicket, ticket.verify, token, 'img', method='PUT')

    def test_tampered(self):
        token = ticket.sign('img', 'proj')
        payload, sig = token.split('.')
        flipped = sig[:-2] + ('A' if sig[-2] != 'A' else 'B') + sig[-1]
        for bad in ('%s.%s' % (payload, flipped), payload, 'garbage', '', '..',
                    '%s.%s' % (ticket._b64(b'{"i": "img"}'), sig)):
            self.assertRaises(exception.InvalidTicket, ticket.verify, bad, 'img')

    def test_claims_cannot_be_edited(self):
        token = ticket.sign('img', 'proj', is_admin=False)
        payload, sig = token.split('.')
        forged = ticket._b64(ticket._unb64(payload).replace(b'"a": false', b'"a": true'))
        self.assertRaises(exception.InvalidTicket, ticket.verify, forged + '.' + sig, 'img')

    def test_rotation(self):
        old = ticket.sign('img', 'proj')
        self.conf.config(ticket_key='k2' * 16, ticket_key_previous='k1' * 16, group='stream')
        self.assertEqual('proj', ticket.verify(old, 'img')['project_id'])
        self.conf.config(ticket_key_previous=None, group='stream')
        self.assertRaises(exception.InvalidTicket, ticket.verify, old, 'img')

    def test_no_key_is_a_config_error(self):
        self.conf.config(ticket_key=None, group='stream')
        self.assertRaises(exception.ConfigError, ticket.sign, 'img', 'proj')
