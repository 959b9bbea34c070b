"""Error kinds shared by every layer, and the one map from kind to HTTP status.

Library code raises these (with context in the message); the HTTP edge turns them into
Docker's status codes and `{"message": ...}` bodies, and the client turns statuses back
into the same kinds. Nothing else in the project decides a status code.
"""

from __future__ import annotations


class SampanError(Exception):
    """Base of every error that crosses a layer boundary."""

    status = 500

    @property
    def message(self) -> str:
        return str(self)


class InvalidArgument(SampanError):
    status = 400


class Unauthorized(SampanError):
    status = 401


class Forbidden(SampanError):
    status = 403


class NotFound(SampanError):
    status = 404


class NotModified(SampanError):
    status = 304


class Conflict(SampanError):
    status = 409


class AlreadyExists(Conflict):
    pass


class NotImplementedFeature(SampanError):
    status = 501


class Unavailable(SampanError):
    status = 503


class DataLoss(SampanError):
    """Stored or received content does not match what it claims to be (digest, size)."""

    status = 500


class System(SampanError):
    status = 500


_BY_STATUS: dict[int, type[SampanError]] = {
    304: NotModified,
    400: InvalidArgument,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    501: NotImplementedFeature,
    503: Unavailable,
}


def status_of(exc: BaseException) -> int:
    """The HTTP status for an exception; anything unknown is a 500."""
    if isinstance(exc, SampanError):
        return exc.status
    return 500


def from_status(status: int, message: str) -> SampanError:
    """Rebuild an error kind from an HTTP status (client side)."""
    cls = _BY_STATUS.get(status, System)
    return cls(message)
