"""Domain exceptions for glance-api and glance-stream.

Service code raises these; the HTTP layer maps them to responses in one place
(``glance.api.fault``), so a controller never builds an error response by hand.
Messages are shown to API users: never put a backend location or credential in one.
"""


class GlanceException(Exception):
    """Base class. ``code`` is the HTTP status the API layer answers with."""

    code = 500
    message = "An unknown exception occurred."

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.message % kwargs
            except (KeyError, TypeError):
                message = self.message
        self.msg = message
        super().__init__(message)

    def __str__(self):
        return self.msg


class BadRequest(GlanceException):
    code = 400
    message = "The request is invalid."


class InvalidParameterValue(BadRequest):
    message = "Invalid value '%(value)s' for parameter '%(param)s': %(extra_msg)s"


class InvalidSortKey(BadRequest):
    message = "Sort key supplied is invalid: %(key)s"


class InvalidFilterRangeValue(BadRequest):
    message = "Unable to filter on a range with a non-numeric value."


class SchemaValidationError(BadRequest):
    message = "Provided object does not match schema: %(reason)s"


class InvalidJsonPatchPath(BadRequest):
    message = "Invalid JSON patch path '%(path)s': %(explanation)s"


class NotAuthenticated(GlanceException):
    code = 401
    message = "You are not authenticated."


class Forbidden(GlanceException):
    code = 403
    message = "You are not authorized to complete this action."


class ReadonlyProperty(Forbidden):
    message = "Attribute '%(property)s' is read-only."


class ReservedProperty(Forbidden):
    message = "Attribute '%(property)s' is reserved."


class ProtectedImageDelete(Forbidden):
    message = "Image %(image_id)s is protected and cannot be deleted."


class NotFound(GlanceException):
    code = 404
    message = "The resource could not be found."


class ImageNotFound(NotFound):
    message = "No image found with ID %(image_id)s"


class MemberNotFound(NotFound):
    message = "Member %(member_id)s not found for image %(image_id)s"


class TaskNotFound(NotFound):
    message = "No task found with ID %(task_id)s"


class Conflict(GlanceException):
    code = 409
    message = "The request conflicts with the current state of the resource."


class Duplicate(Conflict):
    message = "An object with the same identifier already exists."


class InvalidImageStatusTransition(Conflict):
    message = "Image status transition from %(cur_status)s to %(new_status)s is not allowed"


class LimitExceeded(GlanceException):
    code = 413
    message = "The request exceeds a limit: %(reason)s"


class ImageSizeLimitExceeded(LimitExceeded):
    message = "The provided image is too large."


class StorageQuotaFull(LimitExceeded):
    message = ("The size of the data %(image_size)s will exceed the limit. "
               "%(remaining)s bytes remaining.")


class UnsupportedMediaType(GlanceException):
    code = 415
    message = "Unsupported media type: %(content_type)s"


class RangeNotSatisfiable(GlanceException):
    code = 416
    message = "Requested range not satisfiable."

    def __init__(self, message=None, size=None, **kwargs):
        super().__init__(message, **kwargs)
        # RFC 9110: a 416 names the representation's current length
        self.headers = {'Content-Range': 'bytes */%d' % size} if size is not None else {}


class ServiceUnavailable(GlanceException):
    code = 503
    message = "The service is temporarily unavailable: %(reason)s"


class BackendUnavailable(ServiceUnavailable):
    message = "The image backend is unavailable."


class ImageDataCorrupt(GlanceException):
    """The bytes read from a backend do not match the image's recorded hash."""

    code = 502
    message = "Image %(image_id)s data does not match its recorded hash."


class InvalidTicket(NotAuthenticated):
    message = "The download ticket is invalid or has expired."


class ConfigError(GlanceException):
    message = "Invalid configuration: %(reason)s"


# --- metadata definitions catalog ---------------------------------------------------------

class MetadefNamespaceNotFound(NotFound):
    message = "Metadata definition namespace %(namespace)s was not found."


class MetadefObjectNotFound(NotFound):
    message = "Metadata definition object %(name)s was not found in namespace %(namespace)s."


class MetadefPropertyNotFound(NotFound):
    message = ("Metadata definition property %(name)s was not found in namespace "
               "%(namespace)s.")


class MetadefTagNotFound(NotFound):
    message = "Metadata definition tag %(name)s was not found in namespace %(namespace)s."


class MetadefResourceTypeNotFound(NotFound):
    message = "Metadata definition resource type %(name)s was not found."


class MetadefResourceTypeAssociationNotFound(NotFound):
    message = ("Resource type %(name)s is not associated with metadata definition namespace "
               "%(namespace)s.")


class ProtectedMetadefNamespaceDelete(Forbidden):
    message = ("Metadata definition namespace %(namespace)s is protected and cannot be "
               "deleted (set \"protected\": false first).")


class ProtectedMetadefContentDelete(Forbidden):
    message = ("Metadata definition namespace %(namespace)s is protected: its %(kind)s "
               "cannot be deleted (set \"protected\": false first).")


# --- property protections -----------------------------------------------------------------

class PropertyProtected(Forbidden):
    message = "You are not permitted to %(action)s the property '%(property)s'."
