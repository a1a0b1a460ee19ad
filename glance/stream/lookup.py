"""The image lookup filter: which image a download asks for, and may the caller have it.

For ``GET``/``HEAD /v2/images/{id}/file`` it loads the image read-only from the database and
applies the download preconditions (glance.image.download.check_downloadable, the same
rules glance-api and direct links apply). An image with no data is answered 204 here.
Otherwise the image dict goes down the pipeline in ``glance.image`` for the cache filter
and the reader app, which then neither route nor check anything again.
"""

import re

import webob.dec
import webob.exc

from glance.api import fault
from glance.common import exception
from glance.image import download
from glance.store import response

IMAGE_KEY = 'glance.image'
_IMAGE_FILE = re.compile(r'^/v2/images/([^/]+)/file/?$')


class ImageLookup:
    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        match = _IMAGE_FILE.match(req.path_info)
        if not match:
            return webob.exc.HTTPNotFound()
        if req.method not in ('GET', 'HEAD'):
            return webob.exc.HTTPMethodNotAllowed(headers=[('Allow', 'GET, HEAD')])
        try:
            image = download.check_downloadable(req.context, match.group(1),
                                                req.environ.get('glance.ticket'))
        except exception.GlanceException as e:
            return fault.to_http(e)
        if not download.has_data(image):
            return response.no_data_response(req)
        req.environ[IMAGE_KEY] = image
        return req.get_response(self.app)


def filter_factory(global_conf, **local_conf):
    return ImageLookup
