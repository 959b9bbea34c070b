"""Registry error responses turned into errdefs kinds with Docker's wording.

Registries answer `{"errors": [{"code", "message", "detail"}]}`; Docker prints a code as its
lower-cased words (`MANIFEST_UNKNOWN` -> `manifest unknown: <message>`) and wraps the ones a
user can act on: "manifest for x not found", "pull access denied for x, ...". Scripts and
tests match on these strings, so they are kept exactly.
"""

from __future__ import annotations

import errno
import json
import socket
import ssl
from dataclasses import dataclass

from sampan import errdefs
from sampan.distribution.challenge import parse_challenges
from sampan.oci.reference import Reference

# Default messages of the registry error codes Docker knows (used when a body has none).
_DEFAULT_MESSAGES = {
    "UNAUTHORIZED": "authentication required",
    "DENIED": "requested access to the resource is denied",
    "MANIFEST_UNKNOWN": "manifest unknown",
    "NAME_UNKNOWN": "repository name not known to registry",
    "BLOB_UNKNOWN": "blob unknown to registry",
    "TOOMANYREQUESTS": "too many requests",
    "UNKNOWN": "unknown error",
}

DENIED_HINT = "repository does not exist or may require 'docker login'"


class NetworkError(errdefs.System):
    """The registry could not be reached or the connection failed (Docker reports a 500)."""


@dataclass
class RegistryError:
    """One registry error code with its message, printed the way Docker prints it."""

    code: str
    message: str = ""

    def __str__(self) -> str:
        words = self.code.lower().replace("_", " ")
        return f"{words}: {self.message or _DEFAULT_MESSAGES.get(self.code, words)}"


def parse_error_body(body: bytes) -> list[RegistryError]:
    """The `errors` list of a registry response body; empty when it is not one."""
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    errs = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errs, list):
        return []
    out = []
    for e in errs:
        if isinstance(e, dict) and isinstance(e.get("code"), str):
            out.append(RegistryError(e["code"].upper(), str(e.get("message") or "")))
    return out


def response_error(status: int, reason: str, body: bytes, www_authenticate: list[str]) -> RegistryError | None:
    """What a 4xx says went wrong (OAuth challenge errors first, as Docker); None for others."""
    if not 400 <= status < 500:
        return None
    for ch in parse_challenges(www_authenticate):
        if ch.scheme != "bearer":
            continue
        code = {"invalid_token": "UNAUTHORIZED", "insufficient_scope": "DENIED"}.get(ch.get("error"))
        if code:
            return RegistryError(code, ch.get("error_description") or _DEFAULT_MESSAGES[code])
    errs = parse_error_body(body)
    if errs:
        return errs[0]
    if status == 401:
        return RegistryError("UNAUTHORIZED", _DEFAULT_MESSAGES["UNAUTHORIZED"])
    return None


def unexpected_status(status: int, reason: str) -> errdefs.SampanError:
    return errdefs.System(f"received unexpected HTTP status: {status} {reason}".rstrip())


def manifest_error(
    ref: Reference, status: int, reason: str, body: bytes, www_authenticate: list[str],
    *, authenticated: bool,
) -> errdefs.SampanError:
    """Docker's error for a failed manifest fetch of `ref`."""
    err = response_error(status, reason, body, www_authenticate)
    if err is None:
        if status == 404:
            err = RegistryError("MANIFEST_UNKNOWN")
        else:
            return unexpected_status(status, reason)
    if err.code == "MANIFEST_UNKNOWN":
        return errdefs.NotFound(f"manifest for {ref.familiar()} not found: {err}")
    if err.code == "NAME_UNKNOWN":
        return errdefs.NotFound(f"repository {ref.familiar_name} not found: {err}")
    return access_error(ref, err, authenticated=authenticated)


def access_error(ref: Reference, err: RegistryError, *, authenticated: bool) -> errdefs.SampanError:
    """Denied/unauthorized: "pull access denied" unless the given credentials were refused."""
    if err.code == "DENIED" or (err.code == "UNAUTHORIZED" and not authenticated):
        if err.code == "UNAUTHORIZED":
            err = RegistryError("DENIED")
        return errdefs.NotFound(f"pull access denied for {ref.familiar_name}, {DENIED_HINT}: {err}")
    if err.code == "UNAUTHORIZED":
        return errdefs.Unauthorized(str(err))
    if err.code == "TOOMANYREQUESTS":
        return errdefs.Unavailable(str(err))
    if err.code in ("NAME_INVALID", "TAG_INVALID", "MANIFEST_INVALID", "DIGEST_INVALID"):
        return errdefs.InvalidArgument(str(err))
    return errdefs.System(str(err))


def blob_error(
    ref: Reference, digest: str, status: int, reason: str, body: bytes, www_authenticate: list[str],
    *, authenticated: bool,
) -> errdefs.SampanError:
    err = response_error(status, reason, body, www_authenticate)
    if err is None:
        if status == 404:
            err = RegistryError("BLOB_UNKNOWN")
        else:
            return unexpected_status(status, reason)
    if err.code in ("BLOB_UNKNOWN", "NAME_UNKNOWN") or status == 404:
        return errdefs.NotFound(f"failed to fetch {digest} from {ref.familiar_name}: {err}")
    return access_error(ref, err, authenticated=authenticated)


def network_error(method: str, url: str, host: str, exc: BaseException) -> NetworkError:
    """Go's net/http wording, e.g. `Get "http://h/v2/": dial tcp h: connect: connection refused`."""
    verb = method[:1].upper() + method[1:].lower()
    if isinstance(exc, socket.gaierror):
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        detail = f"dial tcp: lookup {name}: no such host"
    elif isinstance(exc, ConnectionRefusedError):
        detail = f"dial tcp {host}: connect: connection refused"
    elif isinstance(exc, TimeoutError | socket.timeout):
        detail = f"dial tcp {host}: i/o timeout"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        detail = f"tls: failed to verify certificate: {_x509_reason(exc)}"
    elif isinstance(exc, ssl.SSLError) and exc.reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE"):
        detail = "http: server gave HTTP response to HTTPS client"
    elif isinstance(exc, ssl.SSLError):
        detail = f"tls: {exc.reason or exc}"
    elif isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE):
        detail = f"read tcp {host}: connection reset by peer"
    elif isinstance(exc, OSError) and exc.strerror:
        detail = f"dial tcp {host}: {exc.strerror.lower()}"
    else:
        detail = str(exc) or type(exc).__name__
    return NetworkError(f'{verb} "{url}": {detail}')


def _x509_reason(exc: ssl.SSLCertVerificationError) -> str:
    """Go's x509 wording for the common verification failures."""
    msg = str(exc.verify_message or exc)
    if "self-signed" in msg or "local issuer" in msg or "self signed" in msg:
        return "x509: certificate signed by unknown authority"
    if "expired" in msg:
        return "x509: certificate has expired or is not yet valid"
    if "mismatch" in msg.lower():
        return f"x509: certificate is not valid for this host ({msg})"
    return f"x509: {msg}"
