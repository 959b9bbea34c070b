"""A fake Engine API daemon on a temp unix socket: canned JSON answers, recorded requests.

Routes match on method and a regex of the path without its `/vX.Y` prefix. A reply can be
JSON, raw bytes, or a stream of JSON objects sent chunked (like `POST /images/create`).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

_VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(/.*)$")


@dataclass
class Request:
    method: str
    path: str  # without the version prefix
    version: str  # "" when unversioned
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    stream: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False


Handler = Callable[[Request], Reply]


class FakeDaemon:
    """Start with `start()` (or as a context manager); `docker_host` is its unix:// address."""

    def __init__(self, api_version: str = "1.44") -> None:
        self.api_version = api_version
        self.dir = tempfile.mkdtemp(prefix="sampan-fake-")
        self.path = os.path.join(self.dir, "sampand.sock")
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Request] = []
        self.connections = 0
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def route(self, method: str, pattern: str, reply: Reply | Handler | None = None, **kw: Any) -> None:
        """Answer `method pattern` with a Reply, a handler, or Reply(**kw)."""
        if reply is None:
            reply = Reply(**kw)
        handler: Handler = reply if callable(reply) else (lambda _req, r=reply: r)
        self.routes.insert(0, (method, re.compile(f"^{pattern}$"), handler))

    def find(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]

    def start(self) -> FakeDaemon:
        daemon = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                daemon.connections += 1

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
                    body = self._read_chunked()
                url = urlsplit(self.path)
                m = _VERSION_PREFIX.match(url.path)
                version, path = (m.group(1), m.group(2)) if m else ("", url.path)
                req = Request(self.command, path, version, parse_qs(url.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
                daemon.requests.append(req)
                reply = daemon.dispatch(req)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client hung up early, as clients may

            def _read_chunked(self) -> bytes:
                parts = []
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                headers = {"Api-Version": daemon.api_version, "Server": "FakeDaemon"}
                headers.update(reply.headers)
                for k, v in headers.items():
                    self.send_header(k, v)
                if reply.close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                if reply.stream is not None:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for obj in reply.stream:
                        data = json.dumps(obj).encode() + b"\r\n"
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if reply.json is not None:
                    data = json.dumps(reply.json).encode()
                    self.send_header("Content-Type", "application/json")
                else:
                    data = reply.body or b""
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD" and reply.status not in (204, 304):
                    self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _handle

        self._server = socketserver.ThreadingUnixStreamServer(self.path, _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def dispatch(self, req: Request) -> Reply:
        for method, pattern, handler in self.routes:
            if method == req.method and pattern.match(req.path):
                return handler(req)
        if req.path == "/_ping":
            return Reply(body=b"OK", headers={"Content-Type": "text/plain; charset=utf-8"})
        return Reply(status=404, json={"message": "page not found"})

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> FakeDaemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
