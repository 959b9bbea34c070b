"""`docker run -t` and `-it` through a real pty: raw stream, the container sees a terminal,
input typed in the terminal reaches it, and the exit code comes back."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
CLI = "/usr/local/bin/docker" if os.path.exists("/usr/local/bin/docker") else "/usr/bin/docker"


def run_in_pty(daemon: DaemonProcess, args: list[str], typed: bytes = b"", timeout: float = 20) -> tuple[int, bytes]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([CLI, *args], stdin=slave, stdout=slave, stderr=slave, env=daemon.docker_env(),
                            start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    sent = not typed
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                out += data
            if not sent and b"READY" in out:
                os.write(master, typed)
                sent = True
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=5), out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.skipif(not os.path.exists(CLI), reason="the docker CLI is not installed")
def test_run_tty(daemon: DaemonProcess, busybox_ref: str) -> None:
    script = "test -t 1 && echo is-a-tty; exit 3"
    code, out = run_in_pty(daemon, ["run", "--rm", "-t", busybox_ref, "sh", "-c", script])
    assert code == 3 and b"is-a-tty\r" in out
    code, out = run_in_pty(daemon, ["run", "--rm", "-it", busybox_ref, "sh", "-c",
                                    "echo READY; read line; echo got:$line; exit 4"], typed=b"hello\r")
    assert code == 4 and b"got:hello" in out, out
