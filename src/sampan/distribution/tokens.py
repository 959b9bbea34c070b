"""Authorization headers for registry requests: Basic credentials or Bearer tokens.

A registry's /v2/ ping says which scheme it wants. For Bearer, a token for
`repository:<path>:pull` comes from the challenge's realm (GET with Basic credentials, or the
OAuth refresh-token POST when an identity token is known) and is cached per
(realm, service, scope) until shortly before it expires.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from sampan import errdefs
from sampan.distribution.auth import AuthConfig
from sampan.distribution.challenge import Challenge
from sampan.distribution.errors import RegistryError, network_error, parse_error_body
from sampan.distribution.transport import TRANSFER_ERRORS, Transport

log = logging.getLogger(__name__)

DEFAULT_EXPIRY = 60  # seconds, when a token response does not say (token.md)
_EXPIRY_MARGIN = 5.0
_MAX_TOKEN_RESPONSE = 1024 * 1024
CLIENT_ID = "sampan"


def pick_challenge(challenges: list[Challenge]) -> Challenge | None:
    """Bearer beats Basic (as Docker); other schemes are not understood."""
    for scheme in ("bearer", "basic"):
        for ch in challenges:
            if ch.scheme == scheme:
                return ch
    return None


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic() deadline


class TokenCache:
    """Tokens by (realm, service, scope); thread-safe."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            tok = self._tokens.get(key)
            if tok is None or tok.expires <= time.monotonic():
                return None
            return tok.value

    def put(self, key: tuple[str, str, str], value: str, expires_in: float) -> None:
        lifetime = expires_in - _EXPIRY_MARGIN
        if lifetime <= 0:
            return  # too short-lived to be worth reusing
        with self._lock:
            self._tokens[key] = _Token(value, time.monotonic() + lifetime)

    def drop(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)


class Authorizer:
    """Computes the Authorization header for a request, given the host's challenges."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.cache = TokenCache()

    def header(self, challenges: list[Challenge], scope: str, creds: AuthConfig | None,
               *, refresh: bool = False) -> str | None:
        """The header value, or None when anonymous access is all we can try."""
        ch = pick_challenge(challenges)
        if ch is None:
            return None
        if ch.scheme == "basic":
            if creds is None:
                return None
            user, pw = creds.credentials()
            return basic_header(user, pw) if (user or pw) else None
        if creds is not None and creds.registry_token:
            return f"Bearer {creds.registry_token}"
        scope = ch.get("scope") if refresh and ch.get("scope") else scope
        key = (ch.get("realm"), ch.get("service"), scope)
        if refresh:
            self.cache.drop(key)
        else:
            cached = self.cache.get(key)
            if cached:
                return f"Bearer {cached}"
        token, expires_in = self._fetch(ch, scope, creds)
        self.cache.put(key, token, expires_in)
        return f"Bearer {token}"

    def _fetch(self, ch: Challenge, scope: str, creds: AuthConfig | None) -> tuple[str, float]:
        realm = ch.get("realm")
        if urlsplit(realm).scheme not in ("http", "https"):
            raise errdefs.System(f"invalid token auth challenge: bad realm {realm!r}")
        params = {k: v for k, v in (("service", ch.get("service")), ("scope", scope)) if v}
        oauth = creds is not None and bool(creds.identity_token)
        if creds is not None and creds.credentials()[0] and not oauth:
            params["account"] = creds.credentials()[0]  # as Docker sends it (Hub uses it)
        status, reason, data = self._ask(realm, params, creds, oauth=oauth)
        if oauth and status in (404, 405):  # no OAuth endpoint: the plain GET flow, as Docker
            status, reason, data = self._ask(realm, params, creds, oauth=False)
        if status != 200:
            raise token_error(status, reason, data, authenticated=creds is not None)
        try:
            doc = json.loads(data)
        except ValueError as e:
            raise errdefs.System(f"unable to decode token response: {e}") from e
        token = str(doc.get("token") or doc.get("access_token") or "") if isinstance(doc, dict) else ""
        if not token:
            raise errdefs.System("authorization server did not include a token in the response")
        expires_in = doc.get("expires_in")
        if not isinstance(expires_in, int | float) or expires_in <= 0:
            expires_in = DEFAULT_EXPIRY
        log.debug("got token for %s from %s (expires in %ss)", scope, realm, expires_in)
        return token, float(expires_in)

    def _ask(self, realm: str, params: dict[str, str], creds: AuthConfig | None, *, oauth: bool
             ) -> tuple[int, str, bytes]:
        """One token request: the OAuth refresh-token POST, or GET with Basic credentials."""
        headers: dict[str, str] = {}
        body: bytes | None = None
        if oauth and creds is not None:
            method, url = "POST", realm
            form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token,
                    "client_id": CLIENT_ID, **params}
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            sep = "&" if "?" in realm else "?"
            method, url = "GET", realm + (sep + urlencode(params) if params else "")
            if creds is not None:
                user, pw = creds.credentials()
                if user or pw:
                    headers["Authorization"] = basic_header(user, pw)
        try:
            ex = self.transport.request(method, url, headers, body)
            return ex.status, ex.reason, ex.read_all(_MAX_TOKEN_RESPONSE)
        except TRANSFER_ERRORS as e:
            raise network_error(method, url, urlsplit(url).netloc, e) from e


def token_error(status: int, reason: str, body: bytes, *, authenticated: bool) -> errdefs.SampanError:
    """A token server's refusal, worded like Docker's `unauthorized: ...`."""
    errs = parse_error_body(body)
    detail = ""
    if not errs:
        try:
            doc = json.loads(body)
            if isinstance(doc, dict):
                detail = str(doc.get("details") or doc.get("error_description") or doc.get("error") or "")
        except ValueError:
            pass
    err = errs[0] if errs else RegistryError("UNAUTHORIZED", detail)
    if status in (401, 403) or err.code in ("UNAUTHORIZED", "DENIED"):
        if not authenticated and err.code == "DENIED":
            return errdefs.NotFound(str(err))
        return errdefs.Unauthorized(str(err))
    return errdefs.System(f"failed to fetch token: received unexpected HTTP status: {status} {reason}")
