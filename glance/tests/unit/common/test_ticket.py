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

    def test_user_id_rides_along(self):
        token = ticket.sign('img', 'proj', user_id='u1', now=1000)
        self.assertEqual('u1', ticket.verify(token, 'img', now=1010)['user_id'])
        # a ticket signed without one (an older glance-api) still verifies
        self.assertIsNone(ticket.verify(ticket.sign('img', 'proj'), 'img')['user_id'])

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

    def test_signature_text_is_compared_not_its_bytes(self):
        """A token whose MAC text differs only in bits no decoder reads is refused.

        A MAC's last base64 character carries 2 such bits (32 bytes in 43 characters).
        """
        alphabet = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')

        def same_bytes(sig):
            last = alphabet.index(sig[-1])
            return sig[:-1] + alphabet[last ^ 1]  # one of the unread bits
        token = ticket.sign('img', 'proj')
        payload, sig = token.split('.')
        self.assertEqual(ticket._unb64(sig), ticket._unb64(same_bytes(sig)))
        self.assertRaises(exception.InvalidTicket, ticket.verify,
                          '%s.%s' % (payload, same_bytes(sig)), 'img')
        request = ticket.sign_request('GET', '/v2/cache')
        expires, sig = request.split('.')
        self.assertRaises(exception.InvalidTicket, ticket.verify_request, 'GET', '/v2/cache',
                          '%s.%s' % (expires, same_bytes(sig)))
        ticket.verify_request('GET', '/v2/cache', request)
        self.assertEqual('proj', ticket.verify(token, 'img')['project_id'])
        # not ASCII: refused, not an error
        self.assertRaises(exception.InvalidTicket, ticket.verify, payload + '.\u00e9', 'img')

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


class TestTicketHardening(testtools.TestCase):
    """Well-signed but malformed or overlong tickets are refused like forged ones."""

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(ticket_key='k1' * 16, ticket_key_previous=None, ticket_lifetime=60,
                         group='stream')

    def _signed(self, payload_bytes):
        payload = ticket._b64(payload_bytes)
        return '%s.%s' % (payload, ticket._b64(ticket._sign('k1' * 16, payload)))

    def test_expiry_beyond_the_lifetime_is_refused(self):
        far = ticket.sign('img', 'proj', lifetime=30 * 365 * 86400, now=1000)
        self.assertRaises(exception.InvalidTicket, ticket.verify, far, 'img', now=1000)
        # within the lifetime plus the clock skew allowance: accepted
        near = ticket.sign('img', 'proj', lifetime=60 + ticket._CLOCK_SKEW, now=1000)
        self.assertEqual(1000 + 60 + ticket._CLOCK_SKEW,
                         ticket.verify(near, 'img', now=1000)['expires'])

    def test_well_signed_malformed_payloads(self):
        for payload in (b'[1, 2]', b'"text"', b'42', b'null', b'true', b'{}', b'\xff\xfe',
                        b'{"m": "GET", "i": "img", "e": "soon"}',
                        b'{"m": "GET", "i": "img", "e": true}',
                        b'{"m": "GET", "i": "img", "e": 1050.5}',
                        b'{"m": "GET", "i": "img", "p": ["x"], "e": 1050}',
                        b'{"m": "GET", "i": ["img"], "e": 1050}',
                        b'[' * 100000 + b']' * 100000):
            self.assertRaises(exception.InvalidTicket, ticket.verify, self._signed(payload),
                              'img', now=1000)
        good = self._signed(b'{"m": "GET", "i": "img", "p": "proj", "e": 1050}')
        self.assertEqual('proj', ticket.verify(good, 'img', now=1000)['project_id'])

    def test_bad_base64_and_shapes(self):
        for bad in ('!!!.@@@', 'a.b.c', '\u00e9.\u00e9', 'abc.', '.abc', None, 42, ['a', 'b']):
            self.assertRaises(exception.InvalidTicket, ticket.verify, bad, 'img')

    def test_request_tokens_are_capped_and_checked(self):
        far = ticket.sign_request('DELETE', '/cache/x', lifetime=10 ** 9, now=1000)
        self.assertRaises(exception.InvalidTicket, ticket.verify_request, 'DELETE',
                          '/cache/x', far, now=1000)
        for bad in ('-5.abc', '1e9.abc', 'x.y', '', '99999999999999999999999.abc'):
            self.assertRaises(exception.InvalidTicket, ticket.verify_request, 'DELETE',
                              '/cache/x', bad, now=1000)
        token = ticket.sign_request('DELETE', '/cache/x', now=1000)
        ticket.verify_request('DELETE', '/cache/x', token, now=1000)
