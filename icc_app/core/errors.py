"""Domain errors. Services raise these; the API and the UI translate them into 4xx answers and toasts."""


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
