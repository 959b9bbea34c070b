"""sampand killed (SIGKILL) while containers run: after a restart the running one is found
again through its shim, and one that exited while no daemon ran shows its real exit code."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.integration.containers.conftest import cleanup_daemon, start_daemon

pytestmark = pytest.mark.root


def test_sigkilled_daemon_finds_its_containers(busybox_ref: str) -> None:
    proc = start_daemon("restart")
    try:
        assert proc.request("POST", f"/images/create?fromImage={busybox_ref}", timeout=120)[0] == 200
        long = proc.docker("run", "-d", "--name", "long", busybox_ref, "sh", "-c",
                           "echo up; trap 'exit 0' TERM; while true; do sleep 0.1; done")
        short = proc.docker("run", "-d", "--name", "short", busybox_ref, "sh", "-c", "sleep 1; exit 7")
        assert long.returncode == 0 and short.returncode == 0, long.stderr + short.stderr
        pid = int(proc.docker("inspect", "-f", "{{.State.Pid}}", "long").stdout)
        proc.signal(signal.SIGKILL)
        assert proc.proc is not None
        proc.proc.wait()
        time.sleep(1.5)  # "short" exits while no daemon runs
        proc.start()
        state = proc.docker("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "long").stdout.split()
        assert state == ["running", str(pid)]
        os.kill(pid, 0)
        assert proc.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "short").stdout.split() == [
            "exited", "7"]
        assert proc.docker("logs", "long").stdout == "up\n"
        t0 = time.monotonic()
        assert proc.docker("stop", "long").returncode == 0
        assert time.monotonic() - t0 < 5
        assert proc.docker("inspect", "-f", "{{.State.ExitCode}}", "long").stdout.strip() == "0"
        # a clean restart (SIGTERM) keeps a running container too
        assert proc.docker("start", "long").returncode == 0
        proc.stop()
        proc.start()
        assert proc.docker("inspect", "-f", "{{.State.Running}}", "long").stdout.strip() == "true"
        assert proc.docker("rm", "-f", "long", "short").returncode == 0
    finally:
        cleanup_daemon(proc)
