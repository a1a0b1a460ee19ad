"""oslo.middleware's request body size limit, minus the image data uploads.

Metadata calls are small; a body over ``[oslo_middleware] max_request_body_size`` answers
413 before anything reads it. Image data (``PUT /v2/images/{id}/file`` and ``/stage``) is
bounded by ``image_size_cap`` and the storage quota instead, where the upload reads it.
"""

import re

from oslo_middleware import sizelimit
import webob.dec

_DATA_PATH = re.compile(r'^/v2(?:\.\d+)?/images/[^/]+/(?:file|stage)/?$')


class SizeLimit(sizelimit.RequestBodySizeLimiter):

    @webob.dec.wsgify
    def __call__(self, req):
        if req.method == 'PUT' and _DATA_PATH.match(req.path_info):
            return req.get_response(self.application)
        return super().__call__(req)
