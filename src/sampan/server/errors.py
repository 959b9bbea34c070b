"""The one place an exception becomes an HTTP answer: status from errdefs, `{"message": ...}`."""

from __future__ import annotations

import logging

from sampan.errdefs import SampanError, status_of
from sampan.server.response import Response

log = logging.getLogger(__name__)


def error_message(exc: BaseException) -> str:
    text = str(exc)
    return text or type(exc).__name__


def error_response(exc: BaseException, *, context: str = "") -> Response:
    status = status_of(exc)
    if not isinstance(exc, SampanError):
        log.error("%s: unexpected error", context or "request", exc_info=exc)
    elif status >= 500:
        log.error("%s: %s", context or "request", exc)
    else:
        log.debug("%s: %s (%d)", context or "request", exc, status)
    return Response.json({"message": error_message(exc)}, status=status)
