"""web-download: fetching the data of an import from a URL, and everything it refuses.

The source is a web server on loopback in the test process. Loopback is exactly what the
SSRF rules refuse, so the tests that fetch successfully name the source host ``localhost``
in ``[import_filtering_opts] allowed_private_hosts``; the refusals run with the default
rules, or show that a redirect from that allowed host to another private address is still
refused. Each refusal ends the task with a message saying why, the image back to queued and
nothing left in the staging area or the store.
"""

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile

import requests

from glance.tests.functional.data import test_data_path
from glance.tests.functional.image_import import base
from glance.tests.functional.image_import import source as source_server

MiB = 1024 * 1024


class WebDownloadTest(source_server.ClassSource, base.ImportTest):

    filtering = {'allowed_ports': ''}

    @classmethod
    def setUpClass(cls):
        cls.server_kwargs = dict(cls.server_kwargs, api_conf={
            'import_filtering_opts': cls.filtering,
            'DEFAULT': {'image_size_cap': 16 * MiB, 'housekeeping_interval': 1},
            'task': {'heartbeat_interval': 1}})
        super().setUpClass()

    def web_import(self, url, **body):
        image = self.create()
        self.import_(image['id'], method='web-download', method_extra={'uri': url}, **body)
        return image

    def assert_refused(self, image, *phrases):
        task = self.wait_task(image['id'])
        self.assertEqual('failure', task['status'])
        for phrase in phrases:
            self.assertIn(phrase, task['message'])
        shown = self.show(image['id'])
        self.assertEqual('queued', shown['status'])
        self.assertNotIn('os_glance_import_task', shown)
        self.assertEqual('local', shown['os_glance_failed_import'])
        self.assertFalse(self.staged(image['id']))
        self.assertFalse(self.stored(image['id']))
        return task


class TestWebDownload(WebDownloadTest):

    # (a short timeout for the stalled-server story)
    filtering = {'allowed_ports': '', 'allowed_private_hosts': 'localhost', 'timeout': '2'}

    def test_import_from_a_url_through_a_redirect(self):
        data = os.urandom(5 * MiB + 1)
        self.source.bodies['good'] = data
        target = self.source.url('/data/good', host='localhost')
        image = self.web_import(self.source.url('/redirect?to=%s' % target, host='localhost'))
        task = self.wait_task(image['id'])
        self.assertEqual('success', task['status'], task['message'])
        shown = self.show(image['id'])
        self.assertEqual(('active', hashlib.sha512(data).hexdigest(), len(data)),
                         (shown['status'], shown['os_hash_value'], shown['virtual_size']))
        self.assertEqual(data, self.download(image['id']).content)
        self.assertFalse(self.staged(image['id']))

    def test_redirects_to_loopback_or_the_metadata_service_are_refused(self):
        self.source.bodies['secret'] = b'secret'
        for target, why in (('http://127.0.0.1:%d/data/secret' % self.source.port,
                             '127.0.0.1 (loopback)'),
                            ('http://169.254.169.254/latest/meta-data/', 'link-local')):
            before = len(self.source.requests)
            image = self.web_import(self.source.url('/redirect?to=%s' % target,
                                                    host='localhost'))
            self.assert_refused(image, 'not a public address', why)
            self.assertEqual(1, len(self.source.requests) - before)  # never reached

    def test_an_oversized_body_is_refused(self):
        image = self.web_import(self.source.url('/oversized?size=%d' % (20 * MiB),
                                                host='localhost'))
        self.assert_refused(image, 'too large')

    def test_a_stalled_server_times_out_and_a_second_import_meanwhile_is_409(self):
        self.source.bodies['slow'] = os.urandom(2 * MiB)
        image = self.web_import(self.source.url('/stall/slow', host='localhost'))
        again = self.session.post(
            self.servers.api_url + '/v2/images/%s/import' % image['id'],
            json={'method': {'name': 'web-download',
                             'uri': self.source.url('/data/slow', host='localhost')}},
            headers=self.headers())
        self.assertEqual(409, again.status_code, again.text)
        self.assert_refused(image, 'sent no data for 2 seconds')

    def test_unsafe_or_mislabelled_content_is_refused(self):
        if shutil.which('qemu-img') is None:
            self.skipTest('qemu-img is not installed (tools/ensure-packages.sh installs it)')
        tmp = tempfile.mkdtemp(prefix='glance-web-')
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run(['qemu-img', 'create', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw',
                        'bad.qcow2', '1M'], check=True, capture_output=True, cwd=tmp)
        with open(os.path.join(tmp, 'bad.qcow2'), 'rb') as f:
            self.source.bodies['bad.qcow2'] = f.read()
        for disk_format, phrase in (('qcow2', 'backing'), ('raw', 'qcow2')):
            image = self.create(disk_format=disk_format)
            self.import_(image['id'], method='web-download', method_extra={
                'uri': self.source.url('/data/bad.qcow2', host='localhost')})
            self.assert_refused(image, 'Image data refused', phrase)

    def test_a_404_source_is_a_clear_failure(self):
        image = self.web_import(self.source.url('/data/missing', host='localhost'))
        self.assert_refused(image, 'answered 404')


class TestWebDownloadDefaultRules(WebDownloadTest):
    """The default rules: no private address at all, whatever name leads to it."""

    def test_loopback_and_names_resolving_to_it_are_refused(self):
        for host, why in (('127.0.0.1', 'resolves to 127.0.0.1 (loopback)'),
                          ('localhost', 'resolves to')):
            before = len(self.source.requests)
            image = self.web_import(self.source.url('/data/x', host=host))
            self.assert_refused(image, 'not a public address', why)
            self.assertEqual(before, len(self.source.requests))

    def test_filters_refuse_at_the_request(self):
        image = self.create()
        for url in ('ftp://example.com/x', 'file:///etc/passwd', 'http:///nohost',
                    'http://example.com:99999/'):
            resp = self.import_(image['id'], method='web-download',
                                method_extra={'uri': url}, expect=400)
            self.assertIn('web-download refused', resp.text)
        self.assertEqual('queued', self.show(image['id'])['status'])


class TestWebDownloadWorkerDies(WebDownloadTest):
    """A worker killed mid-import: another worker fails the task and undoes the import."""

    server_kwargs = {'workers': 2}
    shared_servers = False
    filtering = {'allowed_ports': '', 'allowed_private_hosts': 'localhost',
                 'timeout': '60'}

    def test_killed_worker_leaves_a_failed_task_and_a_queued_image(self):
        self.source.bodies['half'] = os.urandom(4 * MiB)
        image = self.web_import(self.source.url('/stall/half', host='localhost'))

        def holder():
            with sqlite3.connect(os.path.join(self.servers.dir, 'glance.sqlite')) as db:
                row = db.execute('SELECT holder, progress, message FROM tasks WHERE '
                                 'image_id = ?', (image['id'],)).fetchone()
            return row if row and row[0] and row[1] else None
        self.assertTrue(test_data_path.wait_for(holder, 30), 'the import never started')
        holder_id, progress, message = holder()
        self.assertEqual(2 * MiB, progress)
        running = self.image_tasks(image['id'])[0]
        self.assertEqual('processing', running['status'])
        self.assertIn('bytes done', running['message'])
        self.assertEqual('importing', self.show(image['id'])['status'])
        self.assertTrue(self.staged(image['id']))

        os.kill(int(holder_id.split(':')[1]), signal.SIGKILL)
        self.session = requests.Session()  # its kept-alive connection died with the worker
        task = self.assert_refused(image, 'stopped before it finished')
        self.assertIsNotNone(task['expires_at'])
