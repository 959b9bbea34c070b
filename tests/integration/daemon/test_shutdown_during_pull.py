"""SIGTERM while a pull is stuck on a stalled registry: the daemon still exits 0, promptly."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.conftest import DaemonFactory
from tests.support.images import Image, busybox_image

pytestmark = pytest.mark.root


class StallingRegistry:
    """Serves one image; its layer blob sends a little and then stalls until `release`."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, head: bool) -> None:
                img = owner.image
                if self.path == "/v2/":
                    return self._send(200, b"{}", "application/json", head)
                if self.path.startswith("/v2/stall/manifests/"):
                    self._send(200, img.manifest, img.manifest_type, head, img.digest)
                    return None
                digest = self.path.rsplit("/", 1)[-1]
                if digest == img.config_digest:
                    return self._send(200, img.config, "application/octet-stream", head)
                if digest in img.blobs:
                    blob = img.blobs[digest]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(blob)))
                    self.end_headers()
                    self.wfile.write(blob[:1024])
                    self.wfile.flush()
                    owner.release.wait(60)
                    self.close_connection = True
                    return None
                return self._send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}', "application/json", head)

            def _send(self, status: int, body: bytes, ctype: str, head: bool, digest: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if digest:
                    self.send_header("Docker-Content-Digest", digest)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StallingRegistry:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stalling_registry() -> Iterator[StallingRegistry]:
    reg = StallingRegistry(busybox_image()).start()
    try:
        yield reg
    finally:
        reg.stop()


def test_sigterm_during_stalled_pull(daemon_factory: DaemonFactory,
                                     stalling_registry: StallingRegistry) -> None:
    d = daemon_factory().start()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(20)
        client.connect(d.socket)
        client.sendall(f"POST /v1.44/images/create?fromImage={stalling_registry.host}/stall&tag=latest "
                       "HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n".encode())
        seen = b""
        while b"Downloading" not in seen and b"Pulling fs layer" not in seen:
            chunk = client.recv(65536)
            assert chunk, f"stream ended early: {seen!r}\n{d.log()}"
            seen += chunk
        assert seen.startswith(b"HTTP/1.1 200 OK")
        started = time.monotonic()
        d.signal(signal.SIGTERM)
        assert d.proc is not None
        assert d.proc.wait(15) == 0, d.log()
        assert time.monotonic() - started < 10
    assert not os.path.exists(d.socket)
    assert not os.path.exists(d.pidfile)
    assert "Traceback" not in d.log()
