"""A small Docker token-auth server (auth/token.md, auth/oauth.md) for tests.

It signs JWTs with an EC P-256 key whose self-signed certificate the registry trusts
(`rootcertbundle`); the JWT header's `kid` is the libtrust key ID of that key, which is how
docker-registry 2.8 finds the verifying key. Users authenticate with Basic credentials on
GET, or with the OAuth POST (password or refresh_token grants).

    with TokenServer(users={"alice": "secret"}) as ts:
        with LocalRegistry(auth_yaml=ts.auth_yaml()) as reg:
            ...
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """base32 of the first 30 bytes of sha256(DER SubjectPublicKeyInfo), in 4-char groups."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


@dataclass
class TokenRequest:
    method: str
    user: str  # "" when anonymous
    scopes: list[str]
    grant_type: str = ""


@dataclass
class TokenServer:
    """Issues registry tokens. `users` maps username -> password; `refresh_tokens` maps
    refresh token -> username (for identity-token logins). Anonymous users get no access
    unless `anonymous_pull` is set. `expires_in` is put in responses."""

    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    service: str = "test-registry"
    issuer: str = "test-issuer"
    anonymous_pull: bool = False
    expires_in: int = 300
    requests: list[TokenRequest] = field(default_factory=list)
    _dir: str = ""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> TokenServer:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.key_id = libtrust_key_id(self._key.public_key())
        self._dir = tempfile.mkdtemp(prefix="sampan-tokenserver-")
        self.cert_path = os.path.join(self._dir, "root.pem")
        with open(self.cert_path, "wb") as f:
            f.write(self._certificate().public_bytes(serialization.Encoding.PEM))
        server = self

        class Handler(_Handler):
            owner = server

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def auth_yaml(self) -> str:
        """The registry config's `auth:` section trusting this server."""
        return (
            "auth:\n  token:\n"
            f"    realm: {self.realm}\n    service: {self.service}\n"
            f"    issuer: {self.issuer}\n    rootcertbundle: {self.cert_path}\n"
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _certificate(self) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sampan test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )

    def issue(self, user: str, scopes: list[str]) -> str:
        """A signed JWT granting `scopes` (pull only for anonymous when allowed)."""
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            if not user:
                actions = ["pull"] if self.anonymous_pull and "pull" in actions else []
            access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": user, "aud": self.service, "exp": now + self.expires_in,
            "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access,
        }
        header = {"typ": "JWT", "alg": "ES256", "kid": self.key_id}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class _Handler(BaseHTTPRequestHandler):
    owner: TokenServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _denied(self) -> None:
        self._reply(401, {"details": "incorrect username or password"})

    def do_GET(self) -> None:
        q = parse_qs(urlsplit(self.path).query)
        user = ""
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            name, _, pw = base64.b64decode(header[6:]).decode().partition(":")
            if self.owner.users.get(name) != pw:
                self.owner.requests.append(TokenRequest("GET", name, q.get("scope", []), "denied"))
                return self._denied()
            user = name
        scopes = [s for v in q.get("scope", []) for s in v.split(" ")]
        self.owner.requests.append(TokenRequest("GET", user, scopes))
        token = self.owner.issue(user, scopes)
        self._reply(200, {"token": token, "access_token": token, "expires_in": self.owner.expires_in,
                          "issued_at": datetime.datetime.now(datetime.UTC).isoformat()})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        grant = form.get("grant_type", "")
        if grant == "refresh_token":
            user = self.owner.refresh_tokens.get(form.get("refresh_token", ""), "")
        elif grant == "password":
            user = form.get("username", "")
            if self.owner.users.get(user) != form.get("password"):
                user = ""
        else:
            return self._reply(400, {"error": "unsupported_grant_type"})
        scopes = form.get("scope", "").split()
        self.owner.requests.append(TokenRequest("POST", user, scopes, grant))
        if not user or not form.get("client_id"):
            return self._reply(401, {"error": "invalid_grant",
                                     "error_description": "invalid refresh token or client id"})
        token = self.owner.issue(user, scopes)
        refresh = next((k for k, v in self.owner.refresh_tokens.items() if v == user), "")
        self._reply(200, {"access_token": token, "expires_in": self.owner.expires_in,
                          "refresh_token": refresh, "scope": " ".join(scopes)})
