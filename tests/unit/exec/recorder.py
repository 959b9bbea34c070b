"""A tiny recording Engine API for the exec commands: answers what `docker exec` and `sampan exec`
ask (ping, container inspect, exec create/start/inspect/resize) and keeps the requests, so the
two clients can be compared request by request."""

from __future__ import annotations

import json
import os
import re
import socketserver
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

CID = "c" * 64
EID = "e" * 64
OUTPUT = b"\x01\x00\x00\x00\x00\x00\x00\x04out\n\x02\x00\x00\x00\x00\x00\x00\x04err\n"


@dataclass
class Recorder:
    exit_code: int = 3
    create_error: str = ""  # answer exec create with a 409 carrying this message
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="exec-rec-", dir="/tmp")
        self.path = os.path.join(self.dir, "api.sock")
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._ok(b"")

            def do_GET(self) -> None:
                recorder.handle(self, "GET")

            def do_POST(self) -> None:
                recorder.handle(self, "POST")

            def _ok(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Api-Version", "1.44")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def get_request(self) -> Any:
                sock, _ = super().get_request()
                return sock, ("local", 0)

        self.server = Server(self.path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"unix://{self.path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        os.unlink(self.path)
        os.rmdir(self.dir)

    def bodies(self, method: str, suffix: str) -> list[Any]:
        return [b for m, p, b in self.requests if m == method and p.endswith(suffix)]

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path = re.sub(r"^/v[0-9.]+", "", h.path.split("?")[0])
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else None
        self.requests.append((method, path, body))
        if path == "/_ping":
            return _send(h, 200, b"OK", "text/plain")
        if path.startswith("/containers/") and path.endswith("/json"):
            return _send(h, 200, {"Id": CID, "State": {"Running": True}, "Config": {}})
        if path.endswith("/exec"):
            if self.create_error:
                return _send(h, 409, {"message": self.create_error})
            return _send(h, 201, {"Id": EID})
        if path == f"/exec/{EID}/json":
            return _send(h, 200, {"ID": EID, "Running": False, "ExitCode": self.exit_code})
        if path == f"/exec/{EID}/resize":
            return _send(h, 200, b"", "text/plain")
        if path == f"/exec/{EID}/start":
            if body and body.get("Detach"):
                return _send(h, 200, b"", "text/plain")
            h.wfile.write(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
                          b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + OUTPUT)
            h.wfile.flush()
            h.close_connection = True
            return None
        return _send(h, 404, {"message": f"unexpected {method} {path}"})


def _send(h: BaseHTTPRequestHandler, status: int, body: Any, ctype: str = "application/json") -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Api-Version", "1.44")
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)
