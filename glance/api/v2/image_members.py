"""``/v2/images/{id}/members`` and ``/v2/images/{id}/members/{member_id}``."""

from glance.api import resource
from glance.common import exception
from glance.image import members


def _time(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value is not None else None


def member_view(member):
    return {
        'image_id': member['image_id'],
        'member_id': member['member'],
        'status': member['status'],
        'created_at': _time(member['created_at']),
        'updated_at': _time(member['updated_at'] or member['created_at']),
        'schema': '/v2/schemas/member',
    }


class Controller:

    def create(self, req, image_id, member_id):
        return member_view(members.add(req.context, image_id, member_id))

    def index(self, req, image_id):
        found = members.list_members(req.context, image_id)
        return {'members': [member_view(m) for m in found], 'schema': '/v2/schemas/members'}

    def show(self, req, image_id, member_id):
        return member_view(members.get(req.context, image_id, member_id))

    def update(self, req, image_id, member_id, status):
        return member_view(members.update_status(req.context, image_id, member_id, status))

    def delete(self, req, image_id, member_id):
        members.delete(req.context, image_id, member_id)


class RequestDeserializer:

    def _object(self, req):
        body = resource.json_body(req)
        if not isinstance(body, dict):
            raise exception.BadRequest('The request body must be a JSON object.')
        return body

    def create(self, req):
        body = self._object(req)
        if 'member' not in body:
            raise exception.BadRequest('Member to be added not specified.')
        return {'member_id': body['member']}

    def update(self, req):
        body = self._object(req)
        if 'status' not in body:
            raise exception.BadRequest('Status not specified.')
        return {'status': body['status']}


def create_resource():
    return resource.Resource(Controller(), RequestDeserializer())
