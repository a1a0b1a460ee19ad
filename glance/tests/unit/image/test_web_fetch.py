"""web-download's URL filters and address checks, without a network."""

import socket
from unittest import mock

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools

from glance.image import web_fetch

CONF = cfg.CONF


class TestUrlFilters(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))

    def refused(self, url, phrase):
        error = self.assertRaises(web_fetch.WebDownloadRefused, web_fetch.check_url, url)
        self.assertIn(phrase, str(error))

    def test_defaults_allow_http_and_https_on_80_and_443(self):
        self.assertEqual(('https', 'example.org', 443, '/a?b=1'),
                         web_fetch.check_url('https://Example.org/a?b=1'))
        self.assertEqual(('http', 'example.org', 80, '/'),
                         web_fetch.check_url('http://example.org'))
        self.refused('http://example.org:8080/x', 'port 8080')
        self.refused('ftp://example.org/x', 'scheme')
        self.refused('file:///etc/passwd', 'scheme')
        self.refused('http:///x', 'no host')
        self.refused('http://example.org:99999/', 'not a valid URL')

    def test_allow_lists_win_over_deny_lists(self):
        self.conf.config(group='import_filtering_opts', allowed_hosts=['mirror.example.org'],
                         disallowed_hosts=['mirror.example.org'], allowed_ports=[])
        web_fetch.check_url('http://mirror.example.org:8080/x')
        self.refused('http://other.example.org/x', 'host "other.example.org"')
        self.conf.config(group='import_filtering_opts', allowed_hosts=[],
                         disallowed_hosts=['bad.example.org'], disallowed_ports=['22'])
        self.refused('http://bad.example.org/x', 'not allowed')
        self.refused('http://good.example.org:22/x', 'port 22')
        web_fetch.check_url('http://good.example.org:8080/x')


class TestAddresses(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))

    def test_non_public_kinds(self):
        for address, kind in (('127.0.0.1', 'loopback'), ('::1', 'loopback'),
                              ('169.254.169.254', 'link-local'), ('10.1.2.3', 'private'),
                              ('192.168.0.1', 'private'), ('100.64.0.1', 'non-public'),
                              ('0.0.0.0', 'unspecified'), ('::ffff:127.0.0.1', 'loopback'),
                              ('fe80::1%eth0', 'link-local'), ('224.0.0.1', 'multicast')):
            self.assertEqual(kind, web_fetch._non_public(address), address)
        self.assertIsNone(web_fetch._non_public('93.184.216.34'))

    def _answers(self, *addresses):
        return [(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_STREAM, 6,
                 '', (a, 80)) for a in addresses]

    def test_the_dns_answer_is_checked_before_connecting(self):
        with mock.patch.object(socket, 'getaddrinfo',
                               return_value=self._answers('10.0.0.5', '169.254.169.254')), \
                mock.patch.object(socket, 'socket') as make_socket:
            error = self.assertRaises(web_fetch.WebDownloadRefused, web_fetch.open_checked,
                                      'innocent.example.org', 80, 5)
        self.assertIn('10.0.0.5 (private), 169.254.169.254 (link-local)', str(error))
        make_socket.assert_not_called()

    def test_only_a_checked_address_is_connected_to(self):
        sock = mock.Mock()
        with mock.patch.object(socket, 'getaddrinfo',
                               return_value=self._answers('127.0.0.1', '93.184.216.34')), \
                mock.patch.object(socket, 'socket', return_value=sock):
            self.assertIs(sock, web_fetch.open_checked('mixed.example.org', 80, 5))
        sock.connect.assert_called_once_with(('93.184.216.34', 80))

    def test_listed_private_hosts_may_reach_private_addresses(self):
        self.conf.config(group='import_filtering_opts', allowed_private_hosts=['mirror'])
        sock = mock.Mock()
        with mock.patch.object(socket, 'getaddrinfo', return_value=self._answers('10.0.0.5')), \
                mock.patch.object(socket, 'socket', return_value=sock):
            web_fetch.open_checked('mirror', 80, 5)
            self.assertRaises(web_fetch.WebDownloadRefused, web_fetch.open_checked,
                              'other', 80, 5)
        sock.connect.assert_called_once_with(('10.0.0.5', 80))
