"""Errors the client raises itself (not sent by the daemon).

Errors from the daemon are the `sampan.errdefs` kind of their HTTP status; the CLI prefixes
those with "Error response from daemon:". The ones here are local and printed as they are.
"""

from __future__ import annotations

from sampan import errdefs


class LocalError(errdefs.SampanError):
    """Marks an error that did not come from the daemon."""


class ConnectionFailed(LocalError, errdefs.Unavailable):
    """The daemon's socket cannot be reached; the message is Docker's, scripts match it."""

    def __init__(self, message: str, host: str = "") -> None:
        super().__init__(message)
        self.host = host


class InvalidHost(LocalError, errdefs.InvalidArgument):
    """DOCKER_HOST or -H is not an address the client understands."""


class ProtocolError(LocalError, errdefs.System):
    """The daemon answered something that is not HTTP/1.1 as we expect it."""


def is_local(exc: BaseException) -> bool:
    return isinstance(exc, LocalError)
