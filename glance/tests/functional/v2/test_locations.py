"""Image data registered by location, with real servers: what Nova and Cinder do on Ceph.

A service writes the data into a store itself and registers its URL: with the 2.17 calls
(``POST``/``GET /v2/images/{id}/locations``), whose task reads and hashes the data before the
image is active, or with the older ``/locations`` JSON patch (``show_multiple_locations``).
Either way the image is then served by glance-stream, cached and linked to as uploaded
data is; and a URL that does not name an object of a configured store, reaches a loopback
or private address, or names another image's data, is refused.
"""

import hashlib
import os
import signal
import threading
import uuid

import requests

from glance.tests.functional.data import test_data_path
from glance.tests.functional import engines
from glance.tests.functional.image_import import base
from glance.tests.functional.image_import import source as source_server

ADMIN = 'admin,member,reader'
SERVICE = 'service'
PATCH = 'application/openstack-images-v2.1-json-patch'
MiB = 1024 * 1024


class LocationTest(base.ImportTest):

    def put_in_store(self, data, name=None):
        """A file written straight into the file store, as a service writes into Ceph."""
        path = os.path.join(self.servers.store_dir, name or 'registered-%s' % uuid.uuid4())
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def add_location(self, image_id, url, expect=202, roles='member,reader', project=None,
                     **validation):
        body = {'url': url}
        if validation:
            body['validation_data'] = validation
        resp = self.session.post(self.servers.api_url + '/v2/images/%s/locations' % image_id,
                                 json=body, headers=self.headers(project, roles))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp

    def locations(self, image_id, expect=200, roles=SERVICE):
        resp = self.session.get(self.servers.api_url + '/v2/images/%s/locations' % image_id,
                                headers=self.headers(None, roles))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp.json() if expect == 200 else resp

    def patch(self, image_id, ops, expect=200, roles='member,reader'):
        resp = self.session.patch(self.servers.api_url + '/v2/images/%s' % image_id, json=ops,
                                  headers=self.headers(None, roles, **{'Content-Type': PATCH}))
        self.assertEqual(expect, resp.status_code, resp.text)
        return resp


@engines.on_every_engine
class TestLocations(source_server.ClassSource, engines.FreshDatabase, LocationTest):

    server_kwargs = {'common_conf': {
        'DEFAULT': {'enabled_backends': 'local:file,web:http',
                    'show_multiple_locations': 'true'},
        'direct_link': {'file_clients': '127.0.0.1/32'},
        # "localhost" may be reached on loopback, as an internal mirror would be
        # listed; 127.0.0.1 written as such may not
        'import_filtering_opts': {'allowed_ports': '',
                                  'allowed_private_hosts': 'localhost'}}}

    def test_registered_data_is_hashed_then_served_cached_and_linked_like_uploaded(self):
        data = os.urandom(3 * MiB + 17)
        path = self.put_in_store(data)
        image = self.create()
        self.add_location(image['id'], 'file://' + path)
        task = self.wait_task(image['id'])
        self.assertEqual(('location_import', 'success', 'Verified %d bytes in store local'
                          % len(data)), (task['type'], task['status'], task['message']))
        shown = self.show(image['id'])
        self.assertEqual(('active', len(data), hashlib.md5(data).hexdigest(), 'sha512',
                          hashlib.sha512(data).hexdigest(), 'local'),
                         (shown['status'], shown['size'], shown['checksum'],
                          shown['os_hash_algo'], shown['os_hash_value'], shown['stores']))
        self.assertEqual([{'url': 'file://' + path, 'metadata': {'store': 'local'}}],
                         self.locations(image['id']))
        self.locations(image['id'], expect=403, roles='member,reader')

        resp = self.download(image['id'], Range='bytes=1048570-1048590')
        self.assertEqual((206, data[1048570:1048591]), (resp.status_code, resp.content))
        # served by the pieces the task recorded, not by a whole read first
        self.assertNotIn('Image %s has no piece map' % image['id'],
                         self.servers.stream.log())
        resp = self.download(image['id'])  # through glance-stream
        self.assertEqual(data, resp.content)
        self.wait_cached(image['id'])
        self.assertEqual(data, self.download(image['id']).content)
        link = self.session.get(self.servers.api_url + '/v2/images/%s/direct-link'
                                % image['id'], headers=self.headers(roles=ADMIN)).json()
        self.assertEqual(('file://' + path, hashlib.sha512(data).hexdigest()),
                         (link['url'], link['os_hash_value']))

        self.add_location(image['id'], 'file://' + self.put_in_store(data), expect=409)
        self.session.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                            headers=self.headers())
        self.assertFalse(os.path.exists(path))  # the image's data now, deleted with it

    def test_a_hash_mismatch_fails_the_image_cleanly_and_a_retry_works(self):
        data = os.urandom(MiB + 1)
        path = self.put_in_store(data)
        image = self.create()
        self.add_location(image['id'], 'file://' + path, os_hash_algo='sha512',
                          os_hash_value=hashlib.sha512(b'other').hexdigest())
        task = self.wait_task(image['id'])
        self.assertEqual('failure', task['status'])
        self.assertIn('not the os_hash_value given', task['message'])
        shown = self.show(image['id'])
        self.assertEqual(('queued', None, None, None, None),
                         (shown['status'], shown['size'], shown['checksum'],
                          shown['os_hash_algo'], shown['os_hash_value']))
        self.assertNotIn('stores', shown)
        self.assertEqual([], self.locations(image['id']))
        self.assertTrue(os.path.exists(path))  # not Glance's to delete: it never held it

        self.add_location(image['id'], 'file://' + path, os_hash_algo='sha256',
                          os_hash_value=hashlib.sha256(data).hexdigest())
        task = self.wait_task(image['id'], count=2)
        shown = self.show(image['id'])
        self.assertEqual(('active', hashlib.md5(data).hexdigest(), 'sha256',
                          hashlib.sha256(data).hexdigest()),
                         (shown['status'], shown['checksum'], shown['os_hash_algo'],
                          shown['os_hash_value']))
        self.assertEqual(data, self.download(image['id']).content)

    def test_malformed_requests_are_400_and_change_nothing(self):
        path = self.put_in_store(b'x' * 100)
        image = self.create()
        url = 'file://' + path
        sha512 = hashlib.sha512(b'x' * 100).hexdigest()
        bodies = [{'url': url, 'validation_data': validation} for validation in (
            {'os_hash_algo': 'sha512', 'os_hash_value': sha512[:30]},
            {'os_hash_value': sha512},
            {'os_hash_algo': 'sha123', 'os_hash_value': sha512},
            {'os_hash_algo': 'sha512', 'os_hash_value': hashlib.sha256(b'').hexdigest()},
            {'os_hash_algo': 'md5', 'os_hash_value': '0' * 32},
            {'os_hash_algo': 'sha512', 'os_hash_value': sha512.upper()},
            {'checksum': '0' * 32}, 'sha512')]
        bodies += [{}, {'url': 42}, {'url': url, 'metadata': {}}, [url], {'url': ''},
                   {'url': self.source.url('/data/' + 'a' * 3000, host='localhost')}]
        for body in bodies:
            resp = self.session.post(self.servers.api_url + '/v2/images/%s/locations'
                                     % image['id'], json=body, headers=self.headers())
            self.assertEqual(400, resp.status_code, body)
        self.assertEqual(('queued', []),
                         (self.show(image['id'])['status'], self.image_tasks(image['id'])))

    def test_urls_outside_the_stores_are_refused(self):
        outside = os.path.join(self.servers.dir, 'outside')
        with open(outside, 'wb') as f:
            f.write(b'secret' * 100)
        link = self.put_in_store(b'', name='link-%s' % uuid.uuid4())
        os.unlink(link)
        os.symlink(outside, link)
        other = self.create(project='someone-else')
        self.upload(other['id'], os.urandom(2048), project='someone-else')
        # what an upload in progress has written, before any location records it
        uploading = self.create(project='someone-else')
        self.put_in_store(b'partial', name=uploading['id'])
        self.source.bodies['loop'] = b'x' * 1000
        image = self.create()
        refusals = {
            'file:///etc/passwd': 'not inside the directory of store local',
            'file://' + outside: 'not inside',
            'file://%s/../outside' % self.servers.store_dir: 'not inside',
            'file://' + link: 'not inside',
            'file://' + self.servers.store_dir: 'not inside',
            'file://%s/missing' % self.servers.store_dir: 'there is no file',
            'file://%s/%s' % (self.servers.store_dir, other['id']): 'another image',
            'file://%s/%s' % (self.servers.store_dir, uploading['id']): 'another image',
            self.source.url('/data/loop'): 'loopback',
            'http://169.254.169.254/latest/meta-data/': 'link-local',
            self.source.url('/redirect?to=%s' % self.source.url('/data/loop', 'localhost'),
                            'localhost'): 'more than 0 redirects',
            'gopher://info.cern.ch/': 'no configured store takes gopher URLs',
            'swift+config://ref1/glance/x': 'no configured store takes swift+config URLs',
        }
        for url, reason in refusals.items():
            resp = self.add_location(image['id'], url, expect=400)
            self.assertIn(reason, resp.text, url)
        self.assertEqual(('queued', []),
                         (self.show(image['id'])['status'], self.image_tasks(image['id'])))
        # and the other project's image and its data are untouched
        self.assertEqual('active', self.show(other['id'], project='someone-else')['status'])

    def test_an_http_location_on_a_listed_host_is_hashed_and_served(self):
        data = os.urandom(2 * MiB + 5)
        self.source.bodies['web'] = data
        image = self.create()
        self.add_location(image['id'], self.source.url('/data/web', host='localhost'))
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(image['id'])
        self.assertEqual(('active', 'web', hashlib.sha512(data).hexdigest()),
                         (shown['status'], shown['stores'], shown['os_hash_value']))
        self.assertEqual(data, self.download(image['id']).content)
        self.session.delete(self.servers.api_url + '/v2/images/%s' % image['id'],
                            headers=self.headers())
        self.assertEqual(data, self.source.bodies['web'])  # Glance deletes no web data

    def test_the_http_store_is_read_only(self):
        stores = self.session.get(self.servers.api_url + '/v2/info/stores',
                                  headers=self.headers()).json()['stores']
        self.assertEqual({'local': None, 'web': 'true'},
                         {s['id']: s.get('read-only') for s in stores})
        image = self.create()
        resp = self.upload(image['id'], b'x' * 100, expect=400, **{'X-Image-Meta-Store': 'web'})
        self.assertIn('read-only', resp.text)
        self.import_(image['id'], method='web-download', expect=409, stores=['web'],
                     method_extra={'uri': self.source.url('/data/x', host='localhost')})
        self.source.bodies['x'] = b'x' * 100
        self.stage(image['id'], b'x' * 100)
        self.import_(image['id'], all_stores=True)
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        self.assertEqual('local', self.show(image['id'])['stores'])

    def test_the_json_patch_form(self):
        data = os.urandom(MiB)
        first, second = self.put_in_store(data), self.put_in_store(data)
        image = self.create()
        self.patch(image['id'], [{'op': 'add', 'path': '/locations/-',
                                  'value': {'url': 'file://' + first,
                                            'metadata': {'foo': 'bar'}}}])
        shown = self.show(image['id'])
        # as upstream: active at once, no data read
        self.assertEqual(('active', MiB, None), (shown['status'], shown['size'],
                                                 shown['os_hash_value']))
        resp = self.patch(image['id'], [{'op': 'add', 'path': '/locations/-', 'value': {
            'url': 'file://' + second, 'metadata': {},
            'validation_data': {'checksum': hashlib.md5(data).hexdigest()}}}], expect=409)
        self.assertIn('checksum given for the location does not match', resp.text)
        self.patch(image['id'], [{'op': 'add', 'path': '/locations/-',
                                  'value': {'url': 'file://' + second, 'metadata': {}}}])
        locations = self.patch(image['id'], [], roles=ADMIN).json()['locations']
        self.assertEqual([('file://' + first, {'foo': 'bar', 'store': 'local'}),
                          ('file://' + second, {'store': 'local'})],
                         [(loc['url'], loc['metadata']) for loc in locations])
        self.assertNotIn('locations', self.show(image['id']))  # get_image_location: admins

        locations[1]['metadata']['speed'] = '88mph'
        self.patch(image['id'], [{'op': 'replace', 'path': '/locations', 'value': locations}])
        self.patch(image['id'], [{'op': 'replace', 'path': '/locations',
                                  'value': locations[:1]}], expect=400)
        self.patch(image['id'], [{'op': 'replace', 'path': '/locations',
                                  'value': [locations[0], dict(locations[1], url='file://'
                                                               + self.put_in_store(data))]}],
                   expect=400)
        self.patch(image['id'], [{'op': 'add', 'path': '/locations/0',
                                  'value': locations[0]}], expect=400)
        self.patch(image['id'], [{'op': 'remove', 'path': '/locations/1'}], expect=403)
        self.patch(image['id'], [{'op': 'remove', 'path': '/locations/7'}], roles=ADMIN,
                   expect=400)
        shown = self.patch(image['id'], [{'op': 'remove', 'path': '/locations/1'}],
                           roles=ADMIN).json()
        self.assertEqual([('file://' + first, {'foo': 'bar', 'store': 'local'})],
                         [(loc['url'], loc['metadata']) for loc in shown['locations']])
        self.assertFalse(os.path.exists(second))
        self.patch(image['id'], [{'op': 'remove', 'path': '/locations/0'}], roles=ADMIN,
                   expect=403)
        self.patch(image['id'], [{'op': 'replace', 'path': '/locations', 'value': []}],
                   roles=ADMIN, expect=403)
        self.assertEqual(data, self.download(image['id']).content)

    def test_the_json_patch_form_records_the_hashes_given(self):
        data = os.urandom(4096)
        image = self.create()
        self.patch(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'registered'},
            {'op': 'add', 'path': '/locations/-', 'value': {
                'url': 'file://' + self.put_in_store(data), 'metadata': {},
                'validation_data': {'checksum': hashlib.md5(data).hexdigest(),
                                    'os_hash_algo': 'sha512',
                                    'os_hash_value': hashlib.sha512(data).hexdigest()}}}])
        shown = self.show(image['id'])
        self.assertEqual(('registered', 'active', hashlib.sha512(data).hexdigest()),
                         (shown['name'], shown['status'], shown['os_hash_value']))
        self.assertEqual(data, self.download(image['id']).content)  # verified as it streams
        # a patch whose location change is refused changes nothing else either
        self.patch(image['id'], [
            {'op': 'replace', 'path': '/name', 'value': 'changed'},
            {'op': 'add', 'path': '/locations/-',
             'value': {'url': 'file:///etc/passwd', 'metadata': {}}}], expect=400)
        self.assertEqual('registered', self.show(image['id'])['name'])


class TestLocationsOff(LocationTest):
    """Without show_multiple_locations the JSON-patch form is refused; 2.17 is not."""

    def test_patch_is_refused_and_the_2_17_calls_work(self):
        data = os.urandom(1000)
        image = self.create()
        resp = self.patch(image['id'], [{'op': 'add', 'path': '/locations/-', 'value': {
            'url': 'file://' + self.put_in_store(data), 'metadata': {}}}], expect=403)
        self.assertIn('show_multiple_locations', resp.text)
        self.add_location(image['id'], 'file://' + self.put_in_store(data), roles=SERVICE)
        self.assertEqual('success', self.wait_task(image['id'])['status'])
        self.assertEqual(data, self.download(image['id']).content)
        self.add_location(self.create()['id'], 'file://' + self.put_in_store(data),
                          roles='reader', expect=403)


class TestWithoutSecureHash(LocationTest):
    """do_secure_hash off: active at once with the caller's hashes, nothing read."""

    server_kwargs = {'common_conf': {'DEFAULT': {'do_secure_hash': 'false'}}}

    def test_active_at_once_and_verified_only_against_what_was_given(self):
        data = os.urandom(MiB)
        image = self.create()
        self.add_location(image['id'], 'file://' + self.put_in_store(data),
                          os_hash_algo='sha512', os_hash_value=hashlib.sha512(data).hexdigest())
        task = self.image_tasks(image['id'])[0]
        self.assertEqual(('success', 'do_secure_hash is off: the data was not read'),
                         (task['status'], task['message']))
        shown = self.show(image['id'])
        self.assertEqual(('active', None, hashlib.sha512(data).hexdigest()),
                         (shown['status'], shown['checksum'], shown['os_hash_value']))
        self.assertEqual(data, self.download(image['id']).content)  # checked as it streams

        lying = self.create()
        self.add_location(lying['id'], 'file://' + self.put_in_store(data),
                          os_hash_algo='sha512', os_hash_value=hashlib.sha512(b'').hexdigest())
        self.assertEqual('active', self.show(lying['id'])['status'])
        # glance-stream never hands out bytes that do not match as a clean 200: the
        # transfer is cut before its last chunk
        try:
            resp = self.session.get(self.servers.api_url + '/v2/images/%s/file'
                                    % lying['id'], headers=self.headers(), stream=True)
            received = (b''.join(resp.iter_content(MiB)) if resp.status_code == 200
                        else None)
        except requests.exceptions.RequestException:
            received = None
        self.assertIsNone(received)
        self.assertTrue(test_data_path.wait_for(
            lambda: 'Image %s data is corrupt' % lying['id'] in self.servers.stream.log(),
            10))

        bare = self.create()
        self.add_location(bare['id'], 'file://' + self.put_in_store(data))
        shown = self.show(bare['id'])
        self.assertEqual(('active', None), (shown['status'], shown['os_hash_value']))
        self.assertEqual(data, self.download(bare['id']).content)


class _StallingSource:
    """A web server whose second GET sends half the body and then hangs.

    The first is glance-api sizing the location when it is registered, the second the
    task's read; later ones get all of it: the worker killed during the second is replaced
    by one that starts over.
    """

    def __init__(self, body):
        import http.server
        source = self
        self.body = body
        self.gets = 0
        self.release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.send_response(200)
                self.send_header('Content-Length', str(len(source.body)))
                self.end_headers()

            def do_GET(self):
                source.gets += 1
                self.do_HEAD()
                if source.gets == 2:
                    self.wfile.write(source.body[:len(source.body) // 2])
                    self.wfile.flush()
                    source.release.wait(source_server.STALL_LIMIT)
                    return
                try:
                    self.wfile.write(source.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # glance-api read only the headers (the size)

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = 'http://localhost:%d/image' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class TestHashingResumes(LocationTest):
    """The background read survives the death of the worker running it."""

    shared_servers = False
    server_kwargs = {'common_conf': {
        'DEFAULT': {'enabled_backends': 'local:file,web:http'},
        'import_filtering_opts': {'allowed_ports': '', 'allowed_private_hosts': 'localhost'},
        'task': {'heartbeat_interval': 1}}}

    def test_a_killed_worker_s_task_is_resumed_after_the_restart(self):
        data = os.urandom(4 * MiB)
        source = _StallingSource(data)
        self.addCleanup(source.stop)
        image = self.create()
        self.add_location(image['id'], source.url)
        self.assertTrue(test_data_path.wait_for(lambda: source.gets == 2, 30))
        task = self.image_tasks(image['id'])[0]
        shown = self.show(image['id'])
        # active from the start (no hash to check first), hashed by the task
        self.assertEqual(('processing', 'active', 'sha512', None),
                         (task['status'], shown['status'], shown['os_hash_algo'],
                          shown['os_hash_value']))
        self.servers.api.stop(signal.SIGKILL)
        self.servers.api.start()  # housekeeping at start finds the dead runner
        final = self.wait_task(image['id'])
        self.assertEqual((task['id'], 'success'), (final['id'], final['status']),
                         final['message'])
        self.assertEqual(3, source.gets)
        shown = self.show(image['id'])
        self.assertEqual(('active', hashlib.sha512(data).hexdigest()),
                         (shown['status'], shown['os_hash_value']))
        self.assertIn('is gone; resumed here', self.servers.api.log())
