"""GET /containers/{id}/attach/ws on a real server with a fake backend whose "shim" is the
other end of a socketpair: handshake, unmultiplexed messages, stdin, logs, API versions."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sampan.api import stdcopy
from sampan.errdefs import NotFound
from sampan.server import websocket as ws
from sampan.server.router import Router
from sampan.server.routes import containers_ws
from tests.unit.server.harness import RawClient, ServerThread

MASK = b"\x0a\x0b\x0c\x0d"


class FakeLogs:
    tty = False

    def history(self) -> Iterator[list[Any]]:
        yield [("stdout", b"old out\n"), ("stderr", b"old err\n")]

    def encode(self, entries: list[Any]) -> bytes:
        return b"".join(stdcopy.frame(stdcopy.STDERR if s == "stderr" else stdcopy.STDOUT, t) for s, t in entries)

    def close(self) -> None:
        pass


class FakeShim:
    """Echoes stdin back as stdout frames, says bye on stderr at stdin's EOF, then hangs up."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.calls: list[tuple[bool, bool, bool]] = []
        self.threads: list[threading.Thread] = []
        self.received = b""  # what reached the container's stdin

    def attach(self, ref: str, *, stdin: bool, stdout: bool, stderr: bool, callback: Any) -> bool:
        if ref != "c1":
            raise NotFound(f"No such container: {ref}")
        self.calls.append((stdin, stdout, stderr))
        ours, theirs = socket.socketpair()
        t = threading.Thread(target=self._serve, args=(ours,), daemon=True)
        t.start()
        self.threads.append(t)
        callback(theirs, None)
        return self.tty

    def _frame(self, stream: int, data: bytes) -> bytes:
        return data if self.tty else stdcopy.frame(stream, data)

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            try:
                sock.sendall(self._frame(stdcopy.STDOUT, b"hello\n"))
                while data := sock.recv(65536):
                    self.received += data
                    sock.sendall(self._frame(stdcopy.STDOUT, b"echo:" + data))
                sock.sendall(self._frame(stdcopy.STDERR, b"bye\n"))
            except OSError:
                pass  # the route hung up first

    def open_logs(self, ref: str, **_: Any) -> FakeLogs:
        return FakeLogs()


@pytest.fixture
def server(tmp_path: object) -> Iterator[tuple[ServerThread, FakeShim]]:
    shim = FakeShim(tty=False)
    router = Router()
    containers_ws.add_routes(router, shim)  # type: ignore[arg-type]
    st = ServerThread(router, f"{tmp_path}/s.sock").start()
    try:
        yield st, shim
    finally:
        st.stop()
        for t in shim.threads:
            t.join(5)


def _handshake(client: RawClient, target: str, key: str = "dGhlIHNhbXBsZSBub25jZQ==") -> bytes:
    client.send(f"GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n".encode())
    return client.read_until(b"\r\n\r\n")


def _frame(client: RawClient) -> tuple[int, bytes]:
    b0, b1 = client.read_exact(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack(">H", client.read_exact(2))
    return b0 & 0x0F, client.read_exact(n)


def test_stream_stdin_and_close(server: tuple[ServerThread, FakeShim]) -> None:
    st, shim = server
    c = st.connect()
    head = _handshake(c, "/v1.44/containers/c1/attach/ws?stream=1&stdin=1&stdout=1&stderr=1")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert b"Upgrade: websocket" in head
    assert _frame(c) == (ws.OP_BINARY, b"hello\n")  # no stdcopy header: never multiplexed
    c.send(ws.encode_frame(ws.OP_BINARY, b"abc", mask=MASK))
    assert _frame(c) == (ws.OP_BINARY, b"echo:abc")
    c.send(ws.encode_frame(ws.OP_PING, b"hb", mask=MASK))
    assert _frame(c) == (ws.OP_PONG, b"hb")
    c.send(ws.encode_frame(ws.OP_CLOSE, struct.pack(">H", 1000), mask=MASK))
    assert _frame(c) == (ws.OP_CLOSE, struct.pack(">H", 1000))
    assert c.read_to_eof() == b""
    assert shim.calls == [(True, True, True)]


def test_logs_replay_then_end_without_stream(server: tuple[ServerThread, FakeShim]) -> None:
    st, _ = server
    c = st.connect()
    _handshake(c, "/containers/c1/attach/ws?logs=1&stdout=1&stderr=1")
    assert [_frame(c), _frame(c)] == [(ws.OP_BINARY, b"old out\n"), (ws.OP_BINARY, b"old err\n")]
    assert _frame(c)[0] == ws.OP_CLOSE


def test_old_api_text_frames_and_all_streams(server: tuple[ServerThread, FakeShim]) -> None:
    st, shim = server
    c = st.connect()
    _handshake(c, "/v1.27/containers/c1/attach/ws?stream=1")
    assert _frame(c) == (ws.OP_TEXT, b"hello\n")
    assert shim.calls == [(True, True, True)]  # before 1.42 the query's stream choice is ignored
    c.sock.close()


def test_errors_before_the_upgrade(server: tuple[ServerThread, FakeShim]) -> None:
    st, _ = server
    c = st.connect()
    head = _handshake(c, "/containers/nope/attach/ws?stream=1")
    assert head.startswith(b"HTTP/1.1 404 ")
    c = st.connect()
    c.send(b"GET /containers/c1/attach/ws HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_websocket_client_library(server: tuple[ServerThread, FakeShim]) -> None:
    websocket = pytest.importorskip("websocket")
    st, _ = server
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(st.path)
    conn = websocket.create_connection("ws://localhost/v1.44/containers/c1/attach/ws?stream=1&stdin=1&stdout=1",
                                       socket=sock, timeout=5)
    try:
        assert conn.recv() == b"hello\n"
        conn.send_binary(b"x" * 70000)  # 64-bit length, masked by the library
        echoed = b""
        while len(echoed) < 70000:
            message = conn.recv()
            assert message.startswith(b"echo:")  # one message per write of the container
            echoed += message[5:]
        assert echoed == b"x" * 70000
    finally:
        conn.close()


@pytest.fixture
def tty_server(tmp_path: object) -> Iterator[tuple[ServerThread, FakeShim]]:
    shim = FakeShim(tty=True)
    router = Router()
    containers_ws.add_routes(router, shim)  # type: ignore[arg-type]
    st = ServerThread(router, f"{tmp_path}/t.sock").start()
    try:
        yield st, shim
    finally:
        st.stop()
        for t in shim.threads:
            t.join(5)


def test_detach_keys_end_a_tty_attach(tty_server: tuple[ServerThread, FakeShim]) -> None:
    st, shim = tty_server
    c = st.connect()
    _handshake(c, "/containers/c1/attach/ws?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x,q")
    assert _frame(c) == (ws.OP_BINARY, b"hello\n")
    c.send(ws.encode_frame(ws.OP_BINARY, b"ab\x18q", mask=MASK))
    while (frame := _frame(c))[0] != ws.OP_CLOSE:  # the attach ends (maybe after the echo)
        assert frame == (ws.OP_BINARY, b"echo:ab")
    shim.threads[0].join(5)
    assert shim.received == b"ab"  # the keys are held back: they never reach the container
    c = st.connect()
    head = _handshake(c, "/containers/c1/attach/ws?stream=1&stdin=1&detachKeys=ctrl-xx")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert c.read_until(b"provided").endswith(b"Invalid detach keys (ctrl-xx) provided")


def test_without_a_tty_the_default_keys_pass_through(server: tuple[ServerThread, FakeShim]) -> None:
    st, _ = server
    c = st.connect()
    _handshake(c, "/containers/c1/attach/ws?stream=1&stdin=1&stdout=1")
    assert _frame(c) == (ws.OP_BINARY, b"hello\n")
    c.send(ws.encode_frame(ws.OP_BINARY, b"\x10\x11", mask=MASK))
    assert _frame(c) == (ws.OP_BINARY, b"echo:\x10\x11")
    c.sock.close()
