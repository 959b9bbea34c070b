"""The exec routes over a real HTTP server with a fake exec backend: status codes, the hijacked
stream and its content type, errors written into the stream, detach and the exit wait."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sampan import errdefs
from sampan.server.router import Router
from sampan.server.routes.execs import add_routes
from tests.unit.server.harness import ServerThread

EID = "e" * 64


@dataclass
class View:
    tty: bool = False
    open_stdin: bool = True
    detach_sequence: bytes = b"\x10\x11"


@dataclass
class FakeExecs:
    view: View = field(default_factory=View)
    output: bytes = b""
    fail: Exception | None = None
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    stdin: list[bytes] = field(default_factory=list)

    def create(self, ref: str, body: dict[str, Any]) -> str:
        self.calls.append(("create", ref, body))
        return EID

    def get(self, exec_id: str) -> View:
        if exec_id != EID:
            raise errdefs.NotFound(f"No such exec instance: {exec_id}")
        return self.view

    def start(self, exec_id: str, *, detach: bool = False,
              console_size: tuple[int, int] | None = None) -> socket.socket | None:
        self.calls.append(("start", detach, console_size))
        if self.fail is not None:
            raise self.fail
        if detach:
            return None
        ours, theirs = socket.socketpair()
        self._peer = ours
        self._process = threading.Thread(target=self._run, args=(ours,), daemon=True)
        self._process.start()
        return theirs

    def _run(self, sock: socket.socket) -> None:
        """The exec: reads its stdin to the end (the client's half-close), then writes and exits."""
        data = b""
        while chunk := sock.recv(100):
            data += chunk
        self.stdin.append(data)
        try:
            sock.sendall(self.output)
        except OSError:
            pass  # the client detached: nobody reads any more
        sock.close()

    def wait(self, exec_id: str, timeout: float | None = None) -> int | None:
        self.calls.append(("wait",))
        return 0

    def detached(self, exec_id: str) -> None:
        self.calls.append(("detached",))

    def resize(self, exec_id: str, height: int, width: int) -> None:
        self.calls.append(("resize", height, width))

    def inspect(self, exec_id: str) -> dict[str, Any]:
        self.get(exec_id)
        return {"ID": exec_id}


@dataclass
class Host:
    execs: FakeExecs


@pytest.fixture
def server(tmp_path: Any) -> Iterator[tuple[ServerThread, FakeExecs]]:
    execs = FakeExecs()
    router = Router()
    add_routes(router, Host(execs))
    st = ServerThread(router, os.path.join(str(tmp_path), "api.sock")).start()
    try:
        yield st, execs
    finally:
        st.stop()


def post(path: str, body: object = None, upgrade: bool = False) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    extra = "Connection: Upgrade\r\nUpgrade: tcp\r\n" if upgrade else ""
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


def test_create_inspect_resize_and_404(server: tuple[ServerThread, FakeExecs]) -> None:
    st, execs = server
    c = st.connect()
    c.send(post("/containers/web/exec", {"Cmd": ["ls"]}))
    head = c.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201 ")
    assert execs.calls[0] == ("create", "web", {"Cmd": ["ls"]})
    c = st.connect()
    c.send(post(f"/exec/{EID}/resize?h=30&w=90"))
    assert c.read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 200 ") and execs.calls[-1] == ("resize", 30, 90)
    c = st.connect()
    c.send(post("/exec/nope/start", {}, upgrade=True))
    head = c.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 ") and b"No such exec instance: nope" in c.read_until(b"}")


def test_detached_start_is_200_without_body(server: tuple[ServerThread, FakeExecs]) -> None:
    st, execs = server
    c = st.connect()
    c.send(post(f"/exec/{EID}/start", {"Detach": True, "ConsoleSize": [10, 20]}))
    head = c.read_until(b"\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 200 ") and "Content-Length: 0" in head
    assert execs.calls == [("start", True, (10, 20))]


def test_attached_stream_then_exit_wait(server: tuple[ServerThread, FakeExecs]) -> None:
    st, execs = server
    execs.output = b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
    c = st.connect()
    c.send(post(f"/exec/{EID}/start", {"Detach": False, "Tty": False}, upgrade=True))
    head = c.read_until(b"\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 101 UPGRADED") and "application/vnd.docker.multiplexed-stream" in head
    c.send(b"input")
    c.sock.shutdown(socket.SHUT_WR)
    assert c.read_to_eof() == execs.output
    assert execs.calls[-1] == ("wait",) and execs.stdin == [b"input"]


def test_old_api_gets_the_raw_content_type(server: tuple[ServerThread, FakeExecs]) -> None:
    st, _ = server
    c = st.connect()
    c.send(post(f"/v1.41/exec/{EID}/start", {}, upgrade=True))
    assert b"application/vnd.docker.raw-stream" in c.read_until(b"\r\n\r\n")


@pytest.mark.parametrize("tty", [False, True])
def test_start_error_goes_into_the_stream(server: tuple[ServerThread, FakeExecs], tty: bool) -> None:
    st, execs = server
    execs.view.tty = tty
    execs.fail = errdefs.System('exec: "x": executable file not found in $PATH')
    c = st.connect()
    c.send(post(f"/exec/{EID}/start", {}, upgrade=True))
    c.read_until(b"\r\n\r\n")
    message = b'exec: "x": executable file not found in $PATH\r\n'
    expected = message if tty else b"\x01\x00\x00\x00" + len(message).to_bytes(4, "big") + message
    assert c.read_to_eof() == expected


def test_detach_keys_end_the_stream_without_waiting(server: tuple[ServerThread, FakeExecs]) -> None:
    st, execs = server
    c = st.connect()
    c.send(post(f"/exec/{EID}/start", {}, upgrade=True))
    c.read_until(b"\r\n\r\n")
    c.send(b"ab\x10\x11")
    assert c.read_to_eof() == b""
    assert ("wait",) not in execs.calls and execs.calls[-1] == ("detached",)
    execs._process.join(5)
    assert execs.stdin == [b"ab"]  # the keys are held back; the shim connection is closed


