"""Domain errors, raised by services and turned into problem+json (API) or form errors (pages)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict with what is recorded"


class Forbidden(DomainError):
    status = 403
    title = "Not allowed"


class Unauthorised(DomainError):
    status = 401
    title = "Sign in required"


class Invalid(DomainError):
    """One or more fields are wrong; each error names its field so forms can show it there."""

    status = 422
    title = "Some details need correcting"

    def __init__(self, errors: list[FieldError] | FieldError | str, field: str | None = None):
        if isinstance(errors, str):
            errors = [FieldError(field or "body", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class Busy(DomainError):
    """Heavy work (a PDF being laid out) is at its limit just now: try again shortly. Sent
    to the one asking for the heavy thing, never to the ward board (503, Retry-After)."""

    status = 503
    title = "Busy: try again shortly"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
