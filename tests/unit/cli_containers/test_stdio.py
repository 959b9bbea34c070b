"""Attach plumbing: stdcopy demux to two streams, detach keys, stdin pumping and half-close."""

from __future__ import annotations

import io
import os
import pty
import socket
import threading
import time

import pytest

from sampan.api.detachkeys import parse_detach_keys
from sampan.api.stdcopy import frame
from sampan.cli import stdio
from sampan.client.transport import Hijacked, Response


class _Resp(Response):
    def __init__(self) -> None:  # a stand-in: Hijacked only keeps it
        pass


def hijacked_pair() -> tuple[Hijacked, socket.socket]:
    ours, theirs = socket.socketpair()
    return Hijacked(ours, ours.makefile("rb"), _Resp()), theirs


def test_parse_detach_keys() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("a,ctrl-@,ctrl-[") == b"a\x00\x1b"
    with pytest.raises(ValueError):
        parse_detach_keys("ctrl-pp")


def test_detach_matcher_across_reads() -> None:
    m = stdio.DetachMatcher(b"\x10\x11")
    assert m.feed(b"abc\x10") == -1
    assert m.feed(b"\x11rest") == 1
    assert m.feed(b"\x10x\x11") == -1  # interrupted: no detach
    assert m.feed(b"\x10\x10\x11") == 3  # a repeated first key still starts the sequence
    assert stdio.DetachMatcher(b"").feed(b"\x10\x11") == -1


def test_copy_output_demultiplexes_split_frames() -> None:
    conn, daemon = hijacked_pair()
    wire = frame(1, b"out 1\n") + frame(2, b"err\n") + frame(1, b"out 2\n")
    out, err = io.BytesIO(), io.BytesIO()

    def send() -> None:
        for i in range(0, len(wire), 5):  # frames cut mid-header and mid-payload
            daemon.sendall(wire[i : i + 5])
            time.sleep(0.001)
        daemon.close()

    threading.Thread(target=send).start()
    stdio.copy_output(conn, tty=False, out=out.write, err=err.write)
    assert (out.getvalue(), err.getvalue()) == (b"out 1\nout 2\n", b"err\n")
    conn.close()


def test_copy_output_raw_with_tty() -> None:
    conn, daemon = hijacked_pair()
    daemon.sendall(b"\x01\x00\x00\x00raw bytes\r\n")
    daemon.close()
    out = io.BytesIO()
    stdio.copy_output(conn, tty=True, out=out.write, err=out.write)
    assert out.getvalue() == b"\x01\x00\x00\x00raw bytes\r\n"
    conn.close()


def test_input_pump_half_closes_at_eof() -> None:
    conn, daemon = hijacked_pair()
    pump = stdio.InputPump(conn, io.StringIO("hello\n"), detach_keys=b"\x10\x11")
    pump.start()
    daemon.settimeout(5)
    got = b""
    while data := daemon.recv(100):
        got += data
    assert got == b"hello\n" and not pump.detached.is_set()
    conn.close()
    daemon.close()


def test_input_pump_detaches_from_a_terminal_even_if_the_daemon_does_not() -> None:
    """Keys typed in a (fake) terminal: forwarded up to the sequence, then the session ends."""
    conn, daemon = hijacked_pair()
    import tty

    master, slave = pty.openpty()
    tty.setraw(slave)  # as the session sets it
    term = os.fdopen(slave, "rb", buffering=0)
    try:
        pump = stdio.InputPump(conn, term, detach_keys=b"\x10\x11")
        pump.start()
        os.write(master, b"ls\r")
        daemon.settimeout(5)
        assert daemon.recv(100) == b"ls\r"
        os.write(master, b"\x10\x11ignored")
        assert pump.detached.wait(5)
        out = io.BytesIO()
        start = time.monotonic()
        stdio.copy_output(conn, tty=True, out=out.write, err=out.write)  # ends after the grace period
        assert time.monotonic() - start < 5
        assert daemon.recv(100) == b"\x10\x11"  # the daemon saw the keys (it detaches on them)
    finally:
        term.close()
        os.close(master)
        conn.close()
        daemon.close()


def test_raw_terminal_restores_modes() -> None:
    import termios

    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        with stdio.RawTerminal(slave):
            assert termios.tcgetattr(slave)[3] & termios.ECHO == 0
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_terminal_size_of_a_pty() -> None:
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        with os.fdopen(os.dup(slave), "w") as f:
            assert stdio.terminal_size(f) == (24, 80)
        assert stdio.terminal_size(io.StringIO()) is None
    finally:
        os.close(master)
        os.close(slave)


def test_demuxer_agrees_with_the_api_framing() -> None:
    from sampan.api.stdcopy import Demuxer as ApiDemuxer

    wire = frame(1, b"a" * 70000) + frame(2, b"") + frame(3, b"daemon error") + frame(1, b"z")
    ours, theirs = stdio.Demuxer(), ApiDemuxer()
    got, want = [], []
    for i in range(0, len(wire), 4093):
        got += ours.feed(wire[i : i + 4093])
        want += theirs.feed(wire[i : i + 4093])
    assert got == want and len(got) == 4
