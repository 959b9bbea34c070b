"""The attach hub and the control server, driven through the real loop over socketpairs and pipes."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from sampan.shim import wire
from sampan.shim.attach import HIGH_WATER, AttachHub, StdinSink
from sampan.shim.control import Conn, ControlServer
from sampan.shim.loop import Loop


@pytest.fixture
def loop() -> Iterator[Loop]:
    lp = Loop()
    yield lp
    lp.close()


def spin(loop: Loop, times: int = 20) -> None:
    for _ in range(times):
        loop.run_once(0.01)


def read_available(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    data = b""
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


class Pipe:
    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.set_blocking(self.w, False)
        os.set_blocking(self.r, False)

    def read(self) -> bytes:
        try:
            return os.read(self.r, 1 << 20)
        except BlockingIOError:
            return b"<nothing>"


def test_frames_streams_per_client_and_forwards_stdin(loop: Loop) -> None:
    stdin = Pipe()
    hub = AttachHub(loop, tty=False, stdin=StdinSink(loop, stdin.w))
    ours, theirs = socket.socketpair()
    only_err, theirs2 = socket.socketpair()
    hub.add(theirs, stdin=True, stdout=True, stderr=True, close_stdin=True, initial=b"early ")
    hub.add(theirs2, stdin=False, stdout=False, stderr=True, close_stdin=True)
    hub.broadcast(wire.STDOUT, b"out")
    hub.broadcast(wire.STDERR, b"err")
    spin(loop)
    assert read_available(ours) == wire.frame(1, b"out") + wire.frame(2, b"err")
    assert read_available(only_err) == wire.frame(2, b"err")
    ours.sendall(b"input")
    only_err.sendall(b"ignored")
    spin(loop)
    assert stdin.read() == b"early input"
    ours.shutdown(socket.SHUT_WR)
    spin(loop)
    assert stdin.read() == b""  # EOF: the container's stdin is closed
    hub.finish()
    spin(loop)
    assert read_available(ours) == b"" and len(hub) == 0
    os.close(stdin.r)


def test_half_close_keeps_stdin_open_without_close_stdin(loop: Loop) -> None:
    stdin = Pipe()
    sink = StdinSink(loop, stdin.w)
    hub = AttachHub(loop, tty=True, stdin=sink)
    ours, theirs = socket.socketpair()
    hub.add(theirs, stdin=True, stdout=True, stderr=False, close_stdin=False)
    ours.sendall(b"x")
    ours.shutdown(socket.SHUT_WR)
    hub.broadcast(wire.STDOUT, b"raw")
    spin(loop)
    assert stdin.read() == b"x"
    assert stdin.read() == b"<nothing>"  # still open
    assert read_available(ours) == b"raw"  # a tty stream is raw
    sink.abandon()
    hub.close_all()
    os.close(stdin.r)


def test_slow_client_pauses_output_until_drained(loop: Loop) -> None:
    hub = AttachHub(loop, tty=True, stdin=StdinSink(loop, None))
    events: list[bool] = []
    hub.on_pause = events.append
    ours, theirs = socket.socketpair()
    hub.add(theirs, stdin=False, stdout=True, stderr=False, close_stdin=True)
    chunk = b"z" * 65536
    sent = 0
    while not hub.paused:
        hub.broadcast(wire.STDOUT, chunk)
        sent += len(chunk)
        assert sent < 64 * HIGH_WATER
    assert events == [True]
    got = 0
    while got < sent:
        spin(loop, 1)
        got += len(read_available(ours))
    assert got == sent and events == [True, False]
    hub.close_all()


def test_control_server_answers_in_order_and_rejects_garbage(loop: Loop, tmp_path: os.PathLike[str]) -> None:
    later: list[Conn] = []

    def handle(conn: Conn, request: dict[str, object]) -> None:
        if request["op"] == "wait":
            later.append(conn)
        else:
            conn.reply({"echo": request["op"]})

    server = ControlServer(loop, os.path.join(tmp_path, "s.sock"), handle)
    assert os.stat(os.path.join(tmp_path, "s.sock")).st_mode & 0o777 == 0o600
    client = socket.socket(socket.AF_UNIX)
    client.connect(os.path.join(tmp_path, "s.sock"))
    client.sendall(b'{"op":"a"}\nnot json\n{"op":"wait"}\n{"op":"b"}\n')
    spin(loop)
    lines = read_available(client).splitlines()
    assert wire.decode(lines[0]) == {"echo": "a"}
    assert wire.decode(lines[1])["kind"] == "InvalidArgument"
    assert len(lines) == 2  # "b" waits behind "wait"
    later[0].reply({"done": True})
    spin(loop)
    assert [wire.decode(x) for x in read_available(client).splitlines()] == [{"done": True}, {"echo": "b"}]
    client.close()
    server.close()
    assert not os.path.exists(os.path.join(tmp_path, "s.sock"))


def test_a_vanished_client_leaves_stdin_open(loop: Loop) -> None:
    stdin = Pipe()
    sink = StdinSink(loop, stdin.w)
    hub = AttachHub(loop, tty=False, stdin=sink)
    ours, theirs = socket.socketpair()
    hub.add(theirs, stdin=True, stdout=True, stderr=True, close_stdin=True)
    ours.sendall(b"a")
    spin(loop)
    ours.close()  # the whole socket, as when the daemon is killed
    spin(loop)
    assert stdin.read() == b"a"
    assert stdin.read() == b"<nothing>"  # still open for the next attach
    sink.abandon()
    hub.close_all()
    os.close(stdin.r)
