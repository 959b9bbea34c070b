"""Start sampand for a root user who has none running, as the quick start promises.

Only for the default socket (unix:///run/sampan/sampand.sock): a user who names another
address runs their own daemon, and tests never touch the host's default roots. Opt out with
SAMPAN_NO_AUTOSTART=1.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from sampan.client.transport import DEFAULT_HOST

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

_WAIT_SECONDS = 15.0


def _answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
        except OSError:
            return False
    return True


def ensure_daemon(host: str, err: TextIO, *, default_host: str = DEFAULT_HOST,
                  daemon_args: Sequence[str] = ()) -> int | None:
    """If `host` is the default socket, nobody answers there and we are root, start sampand.

    Returns the pid of the daemon it started, or None. `default_host` and `daemon_args`
    (extra sampand flags) exist so tests can exercise this on temporary roots.
    """
    if host != default_host or os.geteuid() != 0 or os.environ.get("SAMPAN_NO_AUTOSTART"):
        return None
    path = host[len("unix://") :]
    if _answers(path):
        return None
    import subprocess

    log_path = os.path.join(os.path.dirname(path), "sampand.log")
    os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sampan.daemon.main", "--host", host, *daemon_args],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        )
    deadline = time.monotonic() + _WAIT_SECONDS
    while time.monotonic() < deadline:
        if _answers(path):
            err.write(f"sampan: no daemon was running; started sampand (pid {proc.pid}), log: {log_path}\n")
            return proc.pid
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    err.write(f"sampan: could not start sampand; see {log_path}\n")
    return None
