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


def _open_stream(path: str, target: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    sock.sendall(f"{target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    sock.settimeout(5)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    return sock


def test_sigterm_cuts_follows_waits_and_stats_streams(busybox_ref: str) -> None:
    proc = start_daemon("stmstop")
    clients: list[socket.socket] = []
    try:
        assert proc.docker("pull", busybox_ref).returncode == 0
        run = proc.docker("run", "-d", busybox_ref, "sh", "-c", "echo up; sleep 300")
        assert run.returncode == 0, run.stderr
        cid = run.stdout.strip()
        for target in (f"GET /v1.44/containers/{cid}/logs?follow=1&stdout=1",
                       f"POST /v1.44/containers/{cid}/wait",
                       f"GET /v1.44/containers/{cid}/stats?stream=1"):
            clients.append(_open_stream(proc.socket, target))
        started = time.monotonic()
        assert proc.stop(timeout=10) == 0
        took = time.monotonic() - started
        assert took < 2.0, f"sampand took {took:.2f}s to stop with streaming clients connected"
        proc.start()  # the container outlived the daemon; remove it through a new one
    finally:
        for sock in clients:
            sock.close()
        cleanup_daemon(proc)
