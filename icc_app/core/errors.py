"""Domain errors. Services raise these; the API and the UI translate them into 4xx answers and toasts."""

from pydantic import BaseModel


class DomainError(Exception):
    """Base class: the message is safe to show to the user who caused it."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    """Also raised for objects of another tenant: their existence is not revealed."""

    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class NotAuthenticated(DomainError):
    status_code = 401


class Conflict(DomainError):
    status_code = 409


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    status_code = 413


# The wire format of every error the API returns (domain errors, request validation, limits, unknown routes), so
# one schema in the OpenAPI document describes them all.
class FieldError(BaseModel):
    field: str  # dotted location, e.g. "quantity" or "query.page"
    message: str


class ErrorBody(BaseModel):
    detail: str  # safe to show to the person who caused it
    field: str | None = None  # the first input at fault, when one is
    errors: list[FieldError] | None = None  # every input at fault (request validation only)


_DESCRIPTIONS = {
    400: "The body could not be read (e.g. a broken multipart form)",
    401: "Not signed in, or the token is expired, revoked or missing",
    403: "Signed in, but not allowed (role, product access, scope, or an unverified business)",
    404: "No such object, or it belongs to another business",
    409: "The object changed or is in a state that does not allow this",
    413: "The request body is larger than this route accepts",
    422: "An input is invalid; `field` names it",
    429: "Too many requests; retry after the Retry-After header",
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """`responses=` for a route: each listed status documented with the one error model."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
