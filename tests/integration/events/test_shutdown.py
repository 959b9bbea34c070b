"""A daemon with event streams open stops at once: an endless stream is not waited for."""

from __future__ import annotations

import socket
import time

import pytest

from tests.integration.containers.conftest import cleanup_daemon, start_daemon

pytestmark = pytest.mark.root


def test_sigterm_cuts_open_event_streams_without_the_grace_wait() -> None:
    proc = start_daemon("evstop")
    clients: list[socket.socket] = []
    try:
        for _ in range(3):
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(proc.socket)
            sock.sendall(b"GET /v1.44/events HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            clients.append(sock)
        started = time.monotonic()
        assert proc.stop(timeout=10) == 0
        took = time.monotonic() - started
        assert took < 2.0, f"sampand took {took:.2f}s to stop with event clients connected"
        for sock in clients:
            sock.settimeout(2)
            data = sock.recv(4096)
            while data:
                data = sock.recv(4096)  # the stream ends: the daemon closed the connection
    finally:
        for sock in clients:
            sock.close()
        cleanup_daemon(proc)
