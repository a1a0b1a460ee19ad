"""A slow list call does not hold up the other requests of its worker.

glance-api serves all the requests of a worker on one thread with eventlet: a database call
that waited inside C would stall every other request of the worker. Here one worker answers
a cheap GET while a list query of the same worker is stuck in the database (it waits on a
table lock the test holds), on PostgreSQL (psycopg2, made cooperative by
``eventlet.monkey_patch()``) and MariaDB (PyMySQL, over green sockets). SQLite runs in
process and has no such query to wait for.

Lists also take turns: a worker serves at most ``[api] image_list_concurrency`` of them at
once, and the others wait without holding up other calls.
"""

import threading
import uuid

import requests
import sqlalchemy as sa

from glance.tests.functional import base
from glance.tests.functional import engines

_LOCK = {
    'postgresql': ('LOCK TABLE image_members IN ACCESS EXCLUSIVE MODE', None),
    'mysql': ('LOCK TABLES image_members WRITE', 'UNLOCK TABLES'),
}
_WAITING = {
    'postgresql': "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND wait_event_type = 'Lock' AND query LIKE '%image_members%'",
    'mysql': "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() "
             "AND state LIKE 'Waiting for table%' AND info LIKE '%image_members%'",
}


class _ListInTheDatabase(base.FunctionalTest):
    """One glance-api worker on a database of its own, and a lock to hold lists up with."""

    engine = 'postgresql'
    api_conf = {}

    def setUp(self):
        url, drop = engines.database_url(self.engine)
        self.addCleanup(drop)
        self.server_kwargs = {'stream': False, 'connection': url, 'workers': 1,
                              'api_conf': self.api_conf}
        super().setUp()
        self.db = sa.create_engine(url)
        self.addCleanup(self.db.dispose)
        self.project = 'p-' + uuid.uuid4().hex[:8]
        self.headers = {'X-Project-Id': self.project, 'X-Roles': 'member,reader'}
        image = requests.post(self._url('/v2/images'), headers=self.headers,
                              json={'name': 'mine', 'visibility': 'private'}, timeout=30)
        self.assertEqual(201, image.status_code, image.text)
        self.image = image.json()
        self.listed = {}

    def _url(self, path):
        return self.servers.api_url + path

    def _lock_members(self):
        """Hold a lock on image_members until the returned function releases it."""
        conn = self.db.connect()
        trans = conn.begin()
        lock, unlock = _LOCK[self.engine]
        conn.execute(sa.text(lock))

        def release():
            if unlock:
                conn.execute(sa.text(unlock))
            trans.commit()
            conn.close()
        return release

    def _waiting(self):
        """How many queries wait on the lock."""
        with self.db.connect() as conn:
            return conn.execute(sa.text(_WAITING[self.engine])).scalar()

    def _wait_until_blocked(self):
        for _ in range(100):  # up to 10 s
            # a connection each time: PostgreSQL's statistics views are a snapshot taken
            # once per transaction
            if self._waiting():
                return
            threading.Event().wait(0.1)
        self.fail('the list query never reached the database lock')

    def _list_in_a_thread(self, name):
        """Start a list call (answer in ``self.listed[name]``); its thread.

        A project's list asks which shared images it is a member of: image_members.
        """
        def list_images():
            self.listed[name] = requests.get(self._url('/v2/images'), headers=self.headers,
                                             timeout=60)
        thread = threading.Thread(target=list_images)
        thread.start()
        return thread

    def _show(self):
        shown = requests.get(self._url('/v2/images/%s' % self.image['id']),
                             headers=self.headers, timeout=20)
        self.assertEqual(200, shown.status_code, shown.text)
        self.assertEqual('mine', shown.json()['name'])

    def _assert_listed(self, name):
        resp = self.listed[name]
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual([self.image['id']], [i['id'] for i in resp.json()['images']])


class TestGetWhileAListWaits(_ListInTheDatabase):

    def test_show_answers_while_a_list_waits_in_the_database(self):
        release = self._lock_members()
        lister = self._list_in_a_thread('list')
        try:
            self._wait_until_blocked()
            self._show()
            self.assertTrue(lister.is_alive(), 'the list call was not waiting any more')
        finally:
            release()
            lister.join(60)
        self._assert_listed('list')


class TestGetWhileAListWaitsMySQL(TestGetWhileAListWaits):
    engine = 'mysql'


class TestListsTakeTurns(_ListInTheDatabase):
    """With one list at a time per worker, a second list waits for the first; a GET not."""

    api_conf = {'api': {'image_list_concurrency': 1}}

    def test_second_list_waits_its_turn_a_get_does_not(self):
        release = self._lock_members()
        first = self._list_in_a_thread('first')
        second = None
        try:
            self._wait_until_blocked()
            second = self._list_in_a_thread('second')
            threading.Event().wait(0.5)
            self._show()
            # the second list is queued in the worker, not in the database
            self.assertEqual(1, self._waiting())
            self.assertTrue(second.is_alive(), 'the second list did not wait')
        finally:
            release()
            for thread in (first, second):
                if thread is not None:
                    thread.join(60)
        self._assert_listed('first')
        self._assert_listed('second')
