"""`docker run -t` and `-it` through a real pty: raw stream, the container sees a terminal,
input typed in the terminal reaches it, and the exit code comes back."""

from __future__ import annotations

import os

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.ptyrun import run_in_pty as pty_run

pytestmark = pytest.mark.root
CLI = "/usr/local/bin/docker" if os.path.exists("/usr/local/bin/docker") else "/usr/bin/docker"


def run_in_pty(daemon: DaemonProcess, args: list[str], typed: bytes = b"", timeout: float = 20) -> tuple[int, bytes]:
    """The docker CLI against `daemon` on a pty."""
    return pty_run([CLI, *args], daemon.docker_env(), typed, timeout)


@pytest.mark.skipif(not os.path.exists(CLI), reason="the docker CLI is not installed")
def test_run_tty(daemon: DaemonProcess, busybox_ref: str) -> None:
    script = "test -t 1 && echo is-a-tty; exit 3"
    code, out = run_in_pty(daemon, ["run", "--rm", "-t", busybox_ref, "sh", "-c", script])
    assert code == 3 and b"is-a-tty\r" in out
    code, out = run_in_pty(daemon, ["run", "--rm", "-it", busybox_ref, "sh", "-c",
                                    "echo READY; read line; echo got:$line; exit 4"], typed=b"hello\r")
    assert code == 4 and b"got:hello" in out, out
