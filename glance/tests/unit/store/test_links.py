"""Links for stores without a server here (rbd, http), and what never becomes a link."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.store import backend
from glance.store import links

CONF = cfg.CONF


class TestPlainLinks(testtools.TestCase):

    def setUp(self):
        super().setUp()
        backend.register_opts()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.conf.config(enabled_backends={'ceph': 'rbd', 'web': 'http', 'vol': 'cinder'})

    def test_rbd_location_is_given_as_is(self):
        url = 'rbd://b3c2a1f0-0000-4000-8000-00000000fsid/images/4d6a/snap'
        link = links.make({'url': url, 'metadata': {'store': 'ceph'}})
        self.assertEqual({'url': url, 'method': 'GET', 'expires_at': None, 'store': 'ceph',
                          'kind': 'rbd'}, link)

    def test_http_source_url(self):
        url = 'https://images.example.org/cirros.img'
        self.assertEqual(url, links.make({'url': url, 'metadata': {'store': 'web'}})['url'])

    def test_never_a_url_with_credentials(self):
        self.assertRaises(links.NoLink, links.make,
                          {'url': 'https://user:secret@images.example.org/x.img',
                           'metadata': {'store': 'web'}})

    def test_stores_without_links(self):
        self.assertRaises(links.NoLink, links.make,
                          {'url': 'cinder://volume-id', 'metadata': {'store': 'vol'}})
        self.assertRaises(links.NoLink, links.make,
                          {'url': 'file:///x', 'metadata': {'store': 'unknown'}})

    def test_masking_for_locations_fields(self):
        self.assertEqual('swift+https://keystone/v3/c/o',
                         backend.safe_url('swift+https://svc:glance:pw@keystone/v3/c/o'))
        self.assertEqual('s3://host/bucket/key',
                         backend.safe_url('s3://ak:sk@host/bucket/key'))
        # S3 secret keys may hold "/": the credential ends at the last "@"
        self.assertEqual('s3://host/bucket/key',
                         backend.safe_url('s3://ak:s/k+x/y@host/bucket/key'))


class TestSecretScan(testtools.TestCase):
    """The functional suite's scanner finds a configured secret and does not print it."""

    def test_finds_without_repeating_it(self):
        from glance.tests.functional import secrets_scan
        secrets_scan.add('s3cr3t-for-the-scan-test')
        secrets_scan.find('nothing to see', 'a log')
        error = self.assertRaises(AssertionError, secrets_scan.find,
                                  b'x-key: s3cr3t-for-the-scan-test', 'the response')
        self.assertIn('the response', str(error))
        self.assertNotIn('s3cr3t-for-the-scan-test', str(error))
