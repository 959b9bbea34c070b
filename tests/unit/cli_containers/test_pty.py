"""`run -it` in a (pseudo) terminal against the fake engine, next to the docker CLI: raw mode,
input reaching the container, the window size sent, and Ctrl-P Ctrl-Q detaching."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from tests.unit.cli_containers.conftest import DOCKER
from tests.unit.cli_containers.fakeengine import FakeEngine

SAMPAN = [sys.executable, "-m", "sampan.cli.main"]


def _read_until(master: int, want: bytes, out: bytearray, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while want not in out and time.monotonic() < deadline:
        if select.select([master], [], [], 0.05)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
    return want in out


def session(engine: FakeEngine, cli: list[str], name: str) -> tuple[int, bytes, list[str]]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 90, 0, 0))
    proc = subprocess.Popen([*cli, "run", "-it", "--name", name, "busybox", "cat"], stdin=slave, stdout=slave,
                            stderr=slave, env=dict(os.environ, SAMPAN_NO_AUTOSTART="1"), start_new_session=True)
    os.close(slave)
    out = bytearray()
    try:
        deadline = time.monotonic() + 10
        while not (engine.lookup(name) and engine.lookup(name).running):  # type: ignore[union-attr]
            assert time.monotonic() < deadline, bytes(out)
            time.sleep(0.02)
        time.sleep(0.2)
        os.write(master, b"typed text\r")
        assert _read_until(master, b"typed text\r", out), bytes(out)
        os.write(master, b"\x10\x11")
        status = proc.wait(timeout=10)
        _read_until(master, b"\0", out, timeout=0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    c = engine.lookup(name)
    assert c is not None
    resizes = [f"{q['h'][0]}x{q['w'][0]}" for p, q, _ in engine.find("POST", "/resize") if c.id in p]
    return status, bytes(out), resizes


@pytest.mark.skipif(not os.path.exists(DOCKER), reason="optional: docker 28 CLI for the side-by-side run")
def test_run_it_detaches_like_docker(engine: FakeEngine) -> None:
    want = session(engine, [DOCKER], "d")
    got = session(engine, SAMPAN, "s")
    assert got[0] == want[0] == 0
    assert got[1] == want[1]
    assert got[2][:1] == want[2][:1] == ["30x90"]
    body = next(b for p, q, b in engine.find("POST", "/containers/create") if q.get("name") == ["s"])
    assert b'"ConsoleSize": [30, 90]' in body
    # docker keeps the keys to itself and hangs up; sampan also forwards them so the daemon detaches
    assert engine.detaches == 1
    assert engine.lookup("d").running and engine.lookup("s").running  # type: ignore[union-attr]
