"""What a store holds, object by object: for crash recovery and ``glance-manage audit``.

glance_store reads, writes and deletes one image at a time; it cannot list a store, tell a
missing object from an empty one, or find what a dead upload left. Each class here does that
for one kind of store, only inside what glance owns there: the file store's data
directories, the single-tenant Swift container(s), the S3 bucket. Names that are not an
image id (``<id>``, or Swift's segments ``<id>-00001``) are never listed, so nothing else an
operator keeps there is ever reported or touched.

What a dead upload leaves, by kind: the file store, ``<datadir>/<id>``; Swift, the segments
``<id>-NNNNN`` of a segmented upload (and ``<id>`` itself if it died after writing it); S3,
an incomplete multipart upload of key ``<id>`` (invisible to a plain listing, still billed)
or the object itself. ``clean_partial()`` removes all of it.

Credentials stay inside the glance_store driver objects; reports use ``safe_name``.
"""

import collections
import datetime
import os
import re

from glance_store import multi_backend
from oslo_config import cfg
from oslo_log import log as logging

from glance.store import backend

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
_OBJECT = re.compile(r'^(%s)$' % _UUID)
_SEGMENT = re.compile(r'^(%s)-\d{5}$' % _UUID)

# kind: 'object' (an image's data), 'segment' (a part of a segmented Swift object),
# 'upload' (an S3 multipart upload never completed). ``name`` is what a location's URL
# ends with (for segments and uploads: the object they belong to); ``where`` the
# directory, container or bucket; ``modified`` a naive UTC datetime.
StoreObject = collections.namedtuple('StoreObject', 'store kind where name image_id size '
                                                    'modified handle')


class NotListable(Exception):
    """This store (its kind, or its mode: multi-tenant Swift) cannot be listed."""


def _utc(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def object_name(location):
    """The object a location's URL names (the last path component, no query)."""
    return location['url'].split('?', 1)[0].rstrip('/').rsplit('/', 1)[-1]


class _Store:
    kind = None

    def __init__(self, name):
        self.name = name
        self.conf = getattr(CONF, name)

    def describe(self):
        """Where glance's objects are, for reports (no credential)."""
        raise NotImplementedError

    def list(self):
        """Every StoreObject glance owns in this store."""
        raise NotImplementedError

    def size_of(self, location):
        """The bytes at a location of this store, or None where nothing is."""
        raise NotImplementedError

    def remove(self, obj):
        """Delete one listed StoreObject (a missing one counts as removed)."""
        raise NotImplementedError

    def clean_partial(self, image_id):
        """Delete whatever a dead upload of ``image_id`` left; the names removed."""
        removed = []
        for obj in self.find(image_id):
            self.remove(obj)
            removed.append('%s %s/%s' % (obj.kind, obj.where, obj.name))
        return removed

    def find(self, image_id):
        return [obj for obj in self.list() if obj.image_id == image_id]


class FileStore(_Store):
    kind = 'file'

    def _dirs(self):
        dirs = [self.conf.filesystem_store_datadir] if self.conf.filesystem_store_datadir \
            else []
        for entry in self.conf.filesystem_store_datadirs or []:
            dirs.append(entry.rsplit(':', 1)[0] if re.search(r':\d+$', entry) else entry)
        return [d.rstrip('/') for d in dirs if d]

    def describe(self):
        return 'directory %s' % ', '.join(self._dirs())

    def list(self):
        for directory in self._dirs():
            try:
                entries = list(os.scandir(directory))
            except FileNotFoundError:
                continue
            for entry in entries:
                match = _OBJECT.match(entry.name)
                if not match or not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
                yield StoreObject(self.name, 'object', directory, entry.name,
                                  match.group(1), st.st_size,
                                  datetime.datetime.utcfromtimestamp(st.st_mtime),
                                  entry.path)

    def find(self, image_id):
        found = []
        for directory in self._dirs():
            path = os.path.join(directory, image_id)
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            found.append(StoreObject(self.name, 'object', directory, image_id, image_id,
                                     st.st_size,
                                     datetime.datetime.utcfromtimestamp(st.st_mtime), path))
        return found

    def size_of(self, location):
        path = backend.file_path(location) or location['url'][len('file://'):]
        try:
            return os.stat(path).st_size
        except FileNotFoundError:
            return None

    def remove(self, obj):
        try:
            os.unlink(obj.handle)
        except FileNotFoundError:
            pass


class SwiftStore(_Store):
    kind = 'swift'

    def __init__(self, name):
        super().__init__(name)
        if self.conf.swift_store_multi_tenant:
            raise NotListable('store %s is multi-tenant Swift: its objects are in the '
                              'projects\' own accounts' % name)
        self.driver = multi_backend.get_store_from_store_identifier(name)

    def _connection(self, image_id='00000000-0000-0000-0000-000000000000'):
        location = self.driver.create_location(image_id)
        manager = self.driver.get_manager(location)
        return manager.get_connection()

    def _containers(self, conn):
        base = self.conf.swift_store_container
        if not self.conf.swift_store_multiple_containers_seed:
            return [base]
        _headers, containers = conn.get_account(prefix=base + '_', full_listing=True)
        return [c['name'] for c in containers]

    def describe(self):
        base = self.conf.swift_store_container
        seeded = '_*' if self.conf.swift_store_multiple_containers_seed else ''
        return 'Swift container %s%s' % (base, seeded)

    def list(self, prefix=None, image_id=None):
        import swiftclient
        conn = self._connection(image_id) if image_id else self._connection()
        containers = ([self.driver.get_container_name(image_id,
                                                      self.conf.swift_store_container)]
                      if image_id else self._containers(conn))
        for container in containers:
            try:
                _headers, objects = conn.get_container(container, prefix=prefix,
                                                       full_listing=True)
            except swiftclient.ClientException as e:
                if e.http_status == 404:
                    continue
                raise
            for item in objects:
                name = item['name']
                match = _OBJECT.match(name)
                kind = 'object'
                if not match:
                    match = _SEGMENT.match(name)
                    kind = 'segment'
                if not match:
                    continue
                yield StoreObject(self.name, kind, container, name, match.group(1),
                                  item.get('bytes'), _utc(item.get('last_modified')),
                                  (container, name))

    def find(self, image_id):
        return list(self.list(prefix=image_id, image_id=image_id))

    def size_of(self, location):
        import swiftclient
        loc = self.driver.create_location(object_name(location))
        container, obj = location['url'].split('?', 1)[0].rstrip('/').rsplit('/', 2)[-2:]
        conn = self.driver.get_manager(loc).get_connection()
        try:
            return int(conn.head_object(container, obj).get('content-length', 0))
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                return None
            raise

    def remove(self, obj):
        import swiftclient
        container, name = obj.handle
        try:
            self._connection(obj.image_id).delete_object(container, name)
        except swiftclient.ClientException as e:
            if e.http_status != 404:
                raise


class S3Store(_Store):
    kind = 's3'

    def __init__(self, name):
        super().__init__(name)
        self.driver = multi_backend.get_store_from_store_identifier(name)
        self.bucket = self.conf.s3_store_bucket

    def _client(self):
        return self.driver._create_s3_client()

    def describe(self):
        return 'S3 bucket %s' % self.bucket

    def list(self, prefix=''):
        client = self._client()
        for page in client.get_paginator('list_objects_v2').paginate(Bucket=self.bucket,
                                                                     Prefix=prefix):
            for item in page.get('Contents', []):
                match = _OBJECT.match(item['Key'])
                if match:
                    yield StoreObject(self.name, 'object', self.bucket, item['Key'],
                                      match.group(1), item['Size'],
                                      _utc(item['LastModified']), item['Key'])
        for upload in self._uploads(client, prefix):
            yield upload

    def _uploads(self, client, prefix):
        kwargs = {'Bucket': self.bucket, 'Prefix': prefix}
        for _ in range(100000):  # pages of up to 1000 uploads
            page = client.list_multipart_uploads(**kwargs)
            for item in page.get('Uploads', []):
                match = _OBJECT.match(item['Key'])
                if match:
                    yield StoreObject(self.name, 'upload', self.bucket, item['Key'],
                                      match.group(1), None, _utc(item.get('Initiated')),
                                      (item['Key'], item['UploadId']))
            if not page.get('IsTruncated'):
                return
            kwargs.update(KeyMarker=page.get('NextKeyMarker'),
                          UploadIdMarker=page.get('NextUploadIdMarker'))

    def find(self, image_id):
        return [obj for obj in self.list(prefix=image_id) if obj.image_id == image_id]

    def size_of(self, location):
        from botocore import exceptions as boto_exc
        try:
            head = self._client().head_object(Bucket=self.bucket, Key=object_name(location))
        except boto_exc.ClientError as e:
            if e.response.get('Error', {}).get('Code') in ('404', 'NoSuchKey', 'NotFound'):
                return None
            raise
        return head['ContentLength']

    def remove(self, obj):
        client = self._client()
        if obj.kind == 'upload':
            key, upload_id = obj.handle
            client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        else:
            client.delete_object(Bucket=self.bucket, Key=obj.handle)


_KINDS = {'file': FileStore, 'swift': SwiftStore, 's3': S3Store}


def for_backend(name):
    """The inventory of backend ``name``; NotListable for kinds this cannot list."""
    backend.configure()
    kind = backend.backend_type(name)
    if kind not in _KINDS:
        raise NotListable('store %s (%s) cannot be listed' % (name, kind))
    return _KINDS[kind](name)


def clean_partial(store, image_id):
    """Delete what a dead upload of ``image_id`` to ``store`` left (the names removed)."""
    try:
        inventory = for_backend(store)
    except NotListable as e:
        LOG.warning('Cannot look for partial data of image %s: %s', image_id, e)
        return []
    removed = inventory.clean_partial(image_id)
    for name in removed:
        LOG.info('Deleted partial data of image %s in store %s: %s', image_id, store, name)
    return removed
