"""glance-stream's reader app: the bytes of the image the filters before it looked up.

It answers ``GET``/``HEAD /v2/images/{id}/file`` for the image in ``glance.image`` (put
there by glance.stream.lookup, which also applied the download preconditions), reading the
store through glance.store.reader: every byte verified, Range by whole pieces. It runs with
or without the cache filter in front of it.
"""

import webob.dec
import webob.exc

from glance.api import fault
from glance.common import exception
from glance.store import backend
from glance.store import reader
from glance.store import response
from glance.stream import lookup

CACHE_SOURCE_KEY = 'glance.cache_source'


class ReaderApp:

    def __init__(self):
        backend.configure()

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    @webob.dec.wsgify
    def __call__(self, req):
        image = req.environ.get(lookup.IMAGE_KEY)
        if image is None:
            # the pipeline lacks the lookup filter: nothing was checked, nothing is served
            return webob.exc.HTTPNotFound()
        try:
            return response.data_response(req, image, lambda start, end: (
                req.environ.get(CACHE_SOURCE_KEY),
                reader.read(image, start, end, context=req.context)))
        except exception.GlanceException as e:
            return fault.to_http(e)
