"""The request-sanity filter: what it refuses (400, with the part at fault) and lets through."""

import testtools
import webob

from glance.api.middleware import sanity


def _app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'through']


class TestRequestSanity(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.filter = sanity.filter_factory({})(_app)

    def call(self, path, query=''):
        # As a WSGI server hands them over: the path percent-decoded, as latin-1 code
        # points of its bytes; the query string raw.
        req = webob.Request.blank('/')
        req.environ['PATH_INFO'] = path.decode('latin-1')
        req.environ['QUERY_STRING'] = query
        return req.get_response(self.filter)

    def test_fine_requests_pass(self):
        for path, query in ((b'/v2/images', ''), (b'/v2/images/caf\xc3\xa9', ''),
                            (b'/v2/images', 'name=caf%C3%A9&tag=a+b&x=%E2%98%83;y=1'),
                            (b'/v2/images', 'flag&=v&n='), (b'/v2/images', 'name=%F0%9F%90%B1')):
            resp = self.call(path, query)
            self.assertEqual(200, resp.status_int, (path, query))
            self.assertEqual(b'through', resp.body)

    def test_invalid_utf8_in_the_path(self):
        for path in (b'/v2/images/\xff', b'/v2/images/\xc0\x80', b'/v2/\xed\xa0\x80'):
            resp = self.call(path)
            self.assertEqual(400, resp.status_int, path)
            self.assertIn(b'path is not valid UTF-8', resp.body)

    def test_control_characters_in_the_path(self):
        for path in (b'/v2/images/a\x00b', b'/v2/images/a\nb', b'/v2/images/\x7f'):
            resp = self.call(path)
            self.assertEqual(400, resp.status_int, path)
            self.assertIn(b'control character', resp.body)

    def test_bad_query_names_and_values(self):
        for query, words in (('name=%FF', b'value is not valid UTF-8'),
                             ('%FF=1', b'name is not valid UTF-8'),
                             ('name=a%00b', b'value contains a control character'),
                             ('a=1;b=%ED%A0%80', b'value is not valid UTF-8'),
                             ('tag=%0d%0aSet-Cookie:x', b'control character'),
                             ('name=\xff', b'not valid UTF-8')):
            resp = self.call(b'/v2/images', query)
            self.assertEqual(400, resp.status_int, query)
            self.assertIn(words, resp.body)

    def test_check_alone(self):
        self.assertIsNone(sanity.check({'PATH_INFO': '/x', 'QUERY_STRING': 'a=b'}))
        self.assertIsNone(sanity.check({}))
        self.assertIsNotNone(sanity.check({'SCRIPT_NAME': '/\xff', 'PATH_INFO': '/'}))
