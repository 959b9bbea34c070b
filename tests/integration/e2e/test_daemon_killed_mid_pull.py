"""sampand SIGKILLed in the middle of a pull restarts onto a consistent store, and the same
pull then succeeds (the issue's crash test, through the real daemon and HTTP API)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.faultproxy import FaultProxy
from tests.support.images import Entry, Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

pytestmark = pytest.mark.root


def _stream_until(sock_path: str, target: str, wanted: str) -> None:
    """Send a pull and read its progress stream until a message with status `wanted` shows."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(f"POST {target} HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n".encode())
    seen = b""
    try:
        while wanted.encode() not in seen:
            chunk = s.recv(65536)
            assert chunk, f"stream ended before {wanted!r}: {seen[-2000:]!r}"
            seen += chunk
    finally:
        s.close()


@pytest.mark.parametrize("kill_at", ["Downloading", "Extracting"])
def test_sigkill_mid_pull_then_same_pull_succeeds(tmp_path: Path, registry: LocalRegistry, kill_at: str) -> None:
    layers = [make_layer(busybox_entries())] + [
        make_layer([Entry(f"blob{i}", data=os.urandom(24_000_000))]) for i in range(3)
    ]
    image = build_image(layers)
    Pusher(registry.url).push_image(f"e2e/crash-{kill_at.lower()}", "latest", image)
    proxy = FaultProxy(registry.url).start()
    try:
        # slow every blob a little so the kill lands while layers are in flight
        proxy.set_fault("/blobs/sha256:", "delay", seconds=0.3, times=None)
        repo = f"{proxy.host}/e2e/crash-{kill_at.lower()}"
        daemon = DaemonProcess(str(tmp_path / "d"))
        daemon.start()
        try:
            _stream_until(daemon.socket, f"/v1.44/images/create?fromImage={repo}&tag=latest", kill_at)
        finally:
            daemon.kill()
        proxy.clear()
        with DaemonProcess(str(tmp_path / "d")) as again:
            status, listed = again.json("GET", "/images/json")
            assert status == 200
            # either absent or whole: never an image whose layers are missing
            for summary in listed:
                code, inspect = again.json("GET", f"/images/{summary['Id']}/json")
                assert code == 200 and inspect["RootFS"]["Layers"] == image.diff_ids
            status, _, body = again.request("POST", f"/v1.44/images/create?fromImage={repo}&tag=latest")
            assert status == 200 and b'"error"' not in body, body[-500:]
            code, inspect = again.json("GET", f"/images/{repo}:latest/json")
            assert code == 200
            assert inspect["Id"] == image.image_id
            assert inspect["RootFS"]["Layers"] == image.diff_ids
            lines = [json.loads(x) for x in body.decode().split("\r\n") if x.strip()]
            assert lines[-1]["status"].startswith("Status: Downloaded newer image for")
    finally:
        proxy.stop()
