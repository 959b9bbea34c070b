"""A tiny in-process registry (http.server thread on 127.0.0.1) for client unit tests.

It serves manifests and blobs from dicts, honours Range, can ask for Basic or Bearer auth
(with its own /token endpoint), and lets a test hook any request with `hooks[path] = fn`
to answer something odd (a redirect, a truncated body, a 500).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Hook = Callable[["Handler"], bool]  # returns True when it answered the request


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeRegistry:
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # "repo:ref" -> (body, type)
    blobs: dict[str, bytes] = field(default_factory=dict)
    auth: str = ""  # "", "basic" or "bearer"
    users: dict[str, str] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)  # path substring -> hook
    seen: list[Seen] = field(default_factory=list)
    tokens_issued: int = 0
    token_expires_in: int = 300
    oauth: bool = True  # False: POST /token is a 404 (token servers without OAuth)
    bad_requests: int = 0  # requests http.server could not parse (e.g. a TLS hello on plain HTTP)
    tls: ssl.SSLContext | None = None  # serve HTTPS with this context
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeRegistry:
        owner = self

        class H(Handler):
            reg = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def add_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        self.manifests[f"{repo}:{ref}"] = (body, media_type)
        self.manifests[f"{repo}:{sha(body)}"] = (body, media_type)
        return sha(body)

    def add_blob(self, data: bytes) -> str:
        self.blobs[sha(data)] = data
        return sha(data)

    def requests_to(self, substring: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if substring in s.path]


_MANIFEST_RE = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
_BLOB_RE = re.compile(r"^/v2/(.+)/blobs/([^/]+)$")


class Handler(BaseHTTPRequestHandler):
    reg: FakeRegistry
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        with self.reg.lock:
            self.reg.bad_requests += 1
        super().send_error(code, message, explain)

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_length: int | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self.reply(status, body, {"Content-Type": "application/json", **(headers or {})})

    def cut(self, status: int, body: bytes, total: int, headers: dict[str, str] | None = None) -> None:
        """Announce `total` bytes, send `body`, then drop the connection."""
        self.reply(status, body, headers, content_length=total)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        reg = self.reg
        path = urlsplit(self.path).path
        with reg.lock:
            reg.seen.append(Seen(self.command, self.path, dict(self.headers.items())))
        for sub, hook in list(reg.hooks.items()):
            if sub in self.path and hook(self):
                return
        if path == "/token":
            return self._token()
        if not self._authorized():
            return None
        if path == "/v2/":
            return self.reply(200, b"{}", {"Content-Type": "application/json"})
        m = _MANIFEST_RE.match(path)
        if m:
            found = reg.manifests.get(f"{m.group(1)}:{m.group(2)}")
            if found is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            body, mt = found
            return self.reply(200, body, {"Content-Type": mt, "Docker-Content-Digest": sha(body)})
        m = _BLOB_RE.match(path)
        if m:
            data = reg.blobs.get(m.group(2))
            if data is None:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            rng = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if rng:
                start = int(rng.group(1))
                return self.reply(206, data[start:], {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
            return self.reply(200, data, {"Content-Type": "application/octet-stream"})
        return self.error(404, "NOT_FOUND", "not found")

    def _authorized(self) -> bool:
        reg = self.reg
        header = self.headers.get("Authorization", "")
        if reg.auth == "basic":
            if header.startswith("Basic "):
                user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
                if reg.users.get(user) == pw:
                    return True
            self.error(401, "UNAUTHORIZED", "authentication required",
                       {"WWW-Authenticate": 'Basic realm="fake"'})
            return False
        if reg.auth == "bearer":
            if header == "Bearer good-token":
                return True
            repo = _MANIFEST_RE.match(self.path) or _BLOB_RE.match(self.path)
            scope = f',scope="repository:{repo.group(1)}:pull"' if repo else ""
            challenge = f'Bearer realm="{reg.scheme}://{reg.host}/token",service="fake"{scope}'
            if header:
                challenge += ',error="insufficient_scope"'
            self.error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
            return False
        return True

    def _token(self) -> None:
        reg = self.reg
        if self.command == "POST":
            n = int(self.headers.get("Content-Length") or 0)
            if not reg.oauth:
                self.rfile.read(n)
                return self.reply(404, b"404 page not found")
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(n).decode()).items()}
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != "refresh-me":
                return self.reply(401, b'{"error":"invalid_grant"}')
            reg.tokens_issued += 1
            return self.reply(200, json.dumps({"access_token": "good-token",
                                               "expires_in": reg.token_expires_in}).encode())
        header = self.headers.get("Authorization", "")
        ok = False
        if header.startswith("Basic "):
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
            if reg.users.get(user) != pw:
                return self.reply(401, b'{"details":"incorrect username or password"}')
            ok = True
        reg.tokens_issued += 1
        token = "good-token" if ok else "anonymous-token"
        self.reply(200, json.dumps({"token": token, "expires_in": reg.token_expires_in}).encode())
