"""glance-stream's WSGI application: image data out of the backends.

The reader, tickets and the cache plug in here (see glance/stream/)."""

import webob.dec
import webob.exc


class StreamApp:

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    @webob.dec.wsgify
    def __call__(self, req):
        return webob.exc.HTTPNotFound()
