"""Run a command on a real pty: what a person at a terminal would see, with input typed once
the program prints READY."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time


def run_in_pty(argv: list[str], env: dict[str, str], typed: bytes = b"", timeout: float = 20) -> tuple[int, bytes]:
    """(exit code, everything written to the terminal); `typed` is sent after READY appears."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
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
