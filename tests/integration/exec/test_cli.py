"""`sampan exec` against a real sampand: output and exit codes, options, -d, -it through a pty."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.ptyrun import run_in_pty

pytestmark = pytest.mark.root


def sampan(daemon: DaemonProcess, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    return subprocess.run([sys.executable, "-m", "sampan.cli.main", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def cid(daemon: DaemonProcess, exec_ref: str) -> str:
    r = sampan(daemon, "run", "-d", "--name", "cli-exec", exec_ref)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_output_exit_codes_and_options(daemon: DaemonProcess, cid: str) -> None:
    r = sampan(daemon, "exec", "cli-exec", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    r = sampan(daemon, "exec", "-u", "app:extra", "-w", "/srv", "-e", "A=b", cid, "sh", "-c", "id; pwd; echo $A")
    assert (r.returncode, r.stdout) == (0, "uid=1000(app) gid=1500(extra) groups=1500(extra)\n/srv\nb\n"), r.stderr
    r = sampan(daemon, "exec", "-i", cid, "cat", stdin="piped\n")
    assert (r.returncode, r.stdout) == (0, "piped\n")
    assert sampan(daemon, "exec", cid, "nothere").returncode == 127
    assert sampan(daemon, "exec", cid, "/srv/notexec").returncode == 126
    r = sampan(daemon, "exec", "no-such", "true")
    assert r.returncode == 1 and "No such container: no-such" in r.stderr
    r = sampan(daemon, "exec", cid)
    assert r.returncode != 0 and "requires at least 2 arguments" in r.stderr


def test_detached(daemon: DaemonProcess, cid: str) -> None:
    r = sampan(daemon, "exec", "-d", cid, "sleep", "77")
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    deadline = time.monotonic() + 10
    while "sleep 77" not in sampan(daemon, "top", cid).stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    ids = json.loads(sampan(daemon, "inspect", cid).stdout)[0]["ExecIDs"]
    assert ids and daemon.json("GET", f"/exec/{ids[0]}/json")[1]["Running"] is True


def test_stopped(daemon: DaemonProcess, exec_ref: str) -> None:
    created = sampan(daemon, "create", exec_ref).stdout.strip()
    r = sampan(daemon, "exec", created, "true")
    assert (r.returncode, r.stderr) == (1, f"Error response from daemon: Container {created} is not running\n")


def test_exec_it(daemon: DaemonProcess, cid: str) -> None:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    code, out = run_in_pty([sys.executable, "-m", "sampan.cli.main", "exec", "-it", cid, "sh", "-c",
                            "test -t 0 && echo READY; read line; echo got:$line; exit 4"], env, typed=b"typed\r")
    assert code == 4 and b"got:typed" in out, out
