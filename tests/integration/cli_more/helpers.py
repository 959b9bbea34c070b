"""Run `sampan` (and the docker CLI) against a test daemon."""

from __future__ import annotations

import subprocess
import sys

from tests.support.daemon import DaemonProcess


def sampan(daemon: DaemonProcess, *args: str, stdin: bytes | str = "", timeout: float = 60,
           cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    data = stdin.encode() if isinstance(stdin, str) else stdin
    r = subprocess.run([sys.executable, "-m", "sampan.cli.main", *args], input=data, capture_output=True,
                       env=env, timeout=timeout, cwd=cwd)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(errors="replace"),
                                       r.stderr.decode(errors="replace"))


def sampan_bytes(daemon: DaemonProcess, *args: str, stdin: bytes = b"",
                 timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    return subprocess.run([sys.executable, "-m", "sampan.cli.main", *args], input=stdin, capture_output=True,
                          env=env, timeout=timeout)


def run_detached(daemon: DaemonProcess, image: str, name: str, *extra: str) -> str:
    r = sampan(daemon, "run", "-d", "--name", name, *extra, image, "sh", "-c",
               "trap 'exit 0' TERM; while true; do sleep 1; done")
    assert r.returncode == 0, r
    return r.stdout.strip()


def remove(daemon: DaemonProcess, *names: str) -> None:
    sampan(daemon, "rm", "-f", *names)
