"""An HTTP proxy in front of a registry that injects faults, for bad-input tests.

    proxy = FaultProxy(registry.url).start()       # serves on 127.0.0.1:<port>
    ref = f"{proxy.host}/repo:tag"                  # pull through the proxy
    proxy.set_fault("/blobs/sha256:ab", "truncate", after=1000)     # once by default
    proxy.set_fault("/manifests/", "status", status=500, times=2)
    proxy.set_fault("/blobs/", "corrupt", offset=10, times=None)    # None = every time
    proxy.set_fault("/blobs/", "redirect", host="localhost")        # 307 to itself (other host name)
    proxy.set_fault("/blobs/", "reset")                             # close without answering
    proxy.set_fault("/manifests/", "body", body=b"...", content_type="...")  # replace the response
    proxy.set_fault("/blobs/", "delay", seconds=2)                  # slow answer
    proxy.requests   # [(method, path, headers dict)] seen, in order
    proxy.clear(); proxy.stop()

A fault applies to requests whose path contains `path_substring`; each fires `times` times
(default 1) and is then forgotten. Kinds:
- `truncate` (after=N): send the upstream headers, then only N body bytes, then close.
- `status` (status=500, body=b""): answer that status instead of forwarding.
- `corrupt` (offset=0): flip one byte of the body at `offset`.
- `redirect` (host=None, status=307): redirect to `/_redirect` + path on this proxy, optionally
  naming it by another host name (e.g. "localhost") so clients see a different host.
- `reset`: close the connection without a response.
- `body` (body, content_type, status=200): answer with this body instead of forwarding.
- `delay` (seconds=1.0): wait before forwarding (slow registries, cancellation tests).
The proxy also serves `/_redirect/...` by forwarding the rest of the path upstream.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

REDIRECT_PREFIX = "/_redirect"
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                          "proxy-authorization", "proxy-authenticate", "host"})


@dataclass
class Fault:
    path_substring: str
    kind: str
    times: int | None
    params: dict[str, Any]


class FaultProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # -- faults --------------------------------------------------------------------------------

    def set_fault(self, path_substring: str, kind: str, *, times: int | None = 1, **params: Any) -> None:
        if kind not in ("truncate", "status", "corrupt", "redirect", "reset", "body", "delay"):
            raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults.append(Fault(path_substring, kind, times, params))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    def take_fault(self, method: str, path: str, headers: dict[str, str]) -> Fault | None:
        """Record the request and pop the first fault matching it (counting down `times`)."""
        with self._lock:
            self.requests.append((method, path, headers))
            for f in self._faults:
                if f.kind == "redirect" and path.startswith(REDIRECT_PREFIX + "/"):
                    continue  # never redirect a redirected request again
                if f.path_substring in path:
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self._faults.remove(f)
                    return f
        return None

    def requests_matching(self, substring: str) -> list[tuple[str, str, dict[str, str]]]:
        with self._lock:
            return [r for r in self.requests if substring in r[1]]


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        headers = {k: v for k, v in self.headers.items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        fault = self.owner.take_fault(self.command, path, headers)
        if path.startswith(REDIRECT_PREFIX + "/"):
            path = path[len(REDIRECT_PREFIX):]
        if fault is not None and self._serve_fault(fault, path):
            return
        self._forward(path, headers, body, fault)

    def _serve_fault(self, fault: Fault, path: str) -> bool:
        """Answer a fault that replaces forwarding; False when forwarding should go on."""
        p = fault.params
        if fault.kind == "delay":
            time.sleep(float(p.get("seconds", 1.0)))
            return False
        if fault.kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.kind == "status":
            self._send(int(p.get("status", 500)), bytes(p.get("body", b"")), "application/json")
            return True
        if fault.kind == "body":
            self._send(int(p.get("status", 200)), bytes(p["body"]), str(p.get("content_type", "")))
            return True
        if fault.kind == "redirect":
            host = p.get("host") or "127.0.0.1"
            location = f"http://{host}:{self.owner.port}{REDIRECT_PREFIX}{path}"
            self.send_response(int(p.get("status", 307)))
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        return False

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self, path: str, headers: dict[str, str], body: bytes, fault: Fault | None) -> None:
        up = http.client.HTTPConnection(self.owner.upstream_host, self.owner.upstream_port, timeout=60)
        try:
            fwd = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
            fwd["Host"] = f"{self.owner.upstream_host}:{self.owner.upstream_port}"
            up.request(self.command, path, body=body or None, headers=fwd)
            resp = up.getresponse()
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() in _HOP_HEADERS:
                    continue
                if k.lower() == "location" and v.startswith(f"http://{fwd['Host']}"):
                    v = self.owner.url + v[len(f"http://{fwd['Host']}"):]
                self.send_header(k, v)
            if resp.getheader("Content-Length") is None:
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                return
            self._copy_body(resp, fault)
        finally:
            up.close()

    def _copy_body(self, resp: http.client.HTTPResponse, fault: Fault | None) -> None:
        limit = int(fault.params.get("after", 0)) if fault and fault.kind == "truncate" else -1
        corrupt_at = int(fault.params.get("offset", 0)) if fault and fault.kind == "corrupt" else -1
        sent = 0
        while True:
            chunk = resp.read(256 * 1024)
            if not chunk:
                return
            if 0 <= corrupt_at < sent + len(chunk) and corrupt_at >= sent:
                b = bytearray(chunk)
                b[corrupt_at - sent] ^= 0xFF
                chunk = bytes(b)
            if limit >= 0 and sent + len(chunk) >= limit:
                self.wfile.write(chunk[: limit - sent])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(chunk)
            sent += len(chunk)
