"""Every command against real containers: create/start/state/kill/delete, exec, ps, pause, run."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.runtime.conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def _cgroup_dir(b: Bundle, hier: str = "memory") -> str:
    return os.path.join("/sys/fs/cgroup", hier, b.spec["linux"]["cgroupsPath"].lstrip("/"))


def _wait_status(rt: Runtime, cid: str, want: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        st = rt.state(cid)
        if st["status"] == want or time.monotonic() > deadline:
            return st
        time.sleep(0.02)


def _wait_running(rt: Runtime, cid: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rt("state", cid).returncode == 0 and rt.state(cid)["status"] == "running":
            return
        time.sleep(0.02)
    raise AssertionError(f"{cid} did not start")


def test_create_start_state_kill_delete(make_bundle: Callable[..., Bundle], sampan: Runtime, tmp_path: Any) -> None:
    b = make_bundle(["sleep", "100"])
    pid_file = str(tmp_path / "pid")
    sampan.ok("create", "--bundle", b.path, "--pid-file", pid_file, "c1")
    st = sampan.state("c1")
    assert st["status"] == "created" and st["id"] == "c1" and st["bundle"] == b.path
    assert st["rootfs"] == os.path.join(b.path, "rootfs") and st["ociVersion"] == "1.0.2-dev"
    assert int(Path(pid_file).read_text()) == st["pid"] > 0
    assert os.path.isdir(_cgroup_dir(b))
    assert str(st["pid"]) in Path(_cgroup_dir(b), "cgroup.procs").read_text().split()
    rows = json.loads(sampan.ok("list", "--format", "json"))
    assert [(r["id"], r["status"], r["pid"]) for r in rows] == [("c1", "created", st["pid"])]
    table = sampan.ok("list").splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert table[1].split()[:4] == ["c1", str(st["pid"]), "created", b.path]
    assert sampan.ok("list", "-q") == "c1\n"

    sampan.ok("start", "c1")
    assert sampan.state("c1")["status"] == "running"
    res = sampan("start", "c1")
    assert res.returncode == 1 and b"cannot start an already running container" in res.stderr
    res = sampan("delete", "c1")
    assert res.returncode == 1 and b"cannot delete container c1 that is not stopped: running" in res.stderr

    sampan.ok("kill", "c1", "KILL")
    st = _wait_status(sampan, "c1", "stopped")
    assert st["status"] == "stopped" and st["pid"] == 0
    res = sampan("kill", "c1", "9")
    assert res.returncode == 1 and b"container not running" in res.stderr
    sampan.ok("delete", "c1")
    assert not os.path.exists(os.path.join(sampan.root, "c1"))
    assert not os.path.exists(_cgroup_dir(b))
    res = sampan("state", "c1")
    assert res.returncode == 1 and b'container \\"c1\\" does not exist' in res.stderr


def test_exit_after_start_is_stopped(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["true"])
    sampan.ok("create", "-b", b.path, "c2")
    sampan.ok("start", "c2")
    assert _wait_status(sampan, "c2", "stopped")["status"] == "stopped"
    sampan.ok("delete", "c2")
    assert not os.path.exists(_cgroup_dir(b))


def test_killed_before_start(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["true"])
    sampan.ok("create", "-b", b.path, "c3")
    sampan.ok("kill", "c3")  # SIGTERM, to a pid 1 waiting on its exec fifo
    assert _wait_status(sampan, "c3", "stopped")["status"] == "stopped"
    res = sampan("start", "c3")
    assert res.returncode == 1 and b"cannot start a container that has stopped" in res.stderr
    sampan.ok("delete", "c3")
    assert sampan.ok("list", "-q") == ""


def test_delete_force_and_kill_all(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["sh", "-c", "sleep 100 & sleep 100 & wait"])
    sampan.ok("run", "-d", "-b", b.path, "c4")
    deadline = time.monotonic() + 5
    while len(pids := json.loads(sampan.ok("ps", "--format", "json", "c4"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(pids) == 3
    table = sampan.ok("ps", "c4").splitlines()
    assert "PID" in table[0] and len(table) == 4
    sampan.ok("kill", "--all", "c4", "KILL")
    assert _wait_status(sampan, "c4", "stopped")["status"] == "stopped"
    b2 = make_bundle(["sleep", "100"])
    sampan.ok("run", "-d", "-b", b2.path, "c5")
    sampan.ok("delete", "--force", "c5")
    assert not os.path.exists(_cgroup_dir(b2))
    sampan.ok("delete", "c4")


def test_run_exit_code_and_output(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["sh", "-c", "echo out; echo err >&2; exit 7"])
    res = sampan("run", "-b", b.path, "c6")
    assert res.returncode == 7 and res.stdout == b"out\n" and res.stderr == b"err\n"
    assert sampan.ok("list", "-q") == "" and not os.path.exists(_cgroup_dir(b))
    import subprocess

    b = make_bundle(["sleep", "100"])
    runner = subprocess.Popen([sampan.binary, "--root", sampan.root, "run", "-b", b.path, "c7"])
    try:
        _wait_running(sampan, "c7")
        sampan.ok("kill", "c7", "KILL")
        assert runner.wait(10) == 128 + signal.SIGKILL
    finally:
        runner.kill()
        runner.wait()
    assert sampan.ok("list", "-q") == ""


def test_exec(make_bundle: Callable[..., Bundle], sampan: Runtime, tmp_path: Any) -> None:
    b = make_bundle(["sleep", "100"])
    sampan.ok("run", "-d", "-b", b.path, "c8")
    assert sampan.ok("exec", "c8", "sh", "-c", "echo hi; echo $$") == "hi\n2\n"
    assert sampan("exec", "c8", "sh", "-c", "exit 3").returncode == 3
    out = sampan.ok("exec", "--user", "1000:1000", "--env", "FOO=bar", "--cwd", "/etc", "c8",
                    "sh", "-c", "id; pwd; echo $FOO; hostname")
    assert out == "uid=1000(user) gid=1000\n/etc\nbar\nsampan\n"
    proc = dict(b.spec["process"], args=["sh", "-c", "echo from-process-file"])
    (tmp_path / "process.json").write_text(json.dumps(proc))
    assert sampan.ok("exec", "--process", str(tmp_path / "process.json"), "c8") == "from-process-file\n"
    res = sampan("exec", "c8", "nosuch")
    assert res.returncode == 1 and b'exec: \\"nosuch\\": executable file not found in $PATH' in res.stderr
    pid_file = str(tmp_path / "exec.pid")
    sampan.ok("exec", "-d", "--pid-file", pid_file, "c8", "sleep", "50")
    pid = int(Path(pid_file).read_text())
    assert pid in json.loads(sampan.ok("ps", "-f", "json", "c8"))
    sampan.ok("kill", "c8", "KILL")
    _wait_status(sampan, "c8", "stopped")
    res = sampan("exec", "c8", "true")
    assert res.returncode == 1 and b"cannot exec in a stopped container" in res.stderr


def test_pause_resume(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["sleep", "100"])
    sampan.ok("run", "-d", "-b", b.path, "c9")
    sampan.ok("pause", "c9")
    assert sampan.state("c9")["status"] == "paused"
    res = sampan("exec", "c9", "true")
    assert res.returncode == 1 and b"paused" in res.stderr
    res = sampan("delete", "c9")
    assert res.returncode == 1 and b"not stopped: paused" in res.stderr
    sampan.ok("resume", "c9")
    assert sampan.state("c9")["status"] == "running"
    res = sampan("resume", "c9")
    assert res.returncode == 1 and b"container not paused" in res.stderr
    sampan.ok("pause", "c9")
    sampan.ok("delete", "--force", "c9")
    assert not os.path.exists(_cgroup_dir(b))


def test_hooks(make_bundle: Callable[..., Bundle], sampan: Runtime, tmp_path: Any) -> None:
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f'#!/bin/sh\necho "$1 $(cat)" >> {log}\n')
    script.chmod(0o755)

    def edit(spec: dict[str, Any]) -> None:
        spec["hooks"] = {kind: [{"path": str(script), "args": ["hook.sh", kind], "timeout": 5}]
                         for kind in ("prestart", "createRuntime", "createContainer", "poststart", "poststop")}
        spec["annotations"] = {"org.example": "yes"}

    b = make_bundle(["true"], edit)
    sampan.ok("create", "-b", b.path, "h1")
    sampan.ok("start", "h1")
    _wait_status(sampan, "h1", "stopped")
    sampan.ok("delete", "h1")
    lines = log.read_text().splitlines()
    kinds = [ln.split(" ", 1)[0] for ln in lines]
    assert kinds == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
    states = [json.loads(ln.split(" ", 1)[1]) for ln in lines]
    assert [s["status"] for s in states] == ["creating", "creating", "creating", "running", "stopped"]
    assert all(s["id"] == "h1" and s["bundle"] == b.path for s in states)
    assert states[0]["annotations"] == {"org.example": "yes"} and states[0]["pid"] > 0


def test_console_socket(make_bundle: Callable[..., Bundle], sampan: Runtime, tmp_path: Any) -> None:
    import socket

    from sampan.runtime.console import recv_master

    sock_path = str(tmp_path / "console.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(2)

    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["terminal"] = True
        spec["process"]["consoleSize"] = {"height": 30, "width": 100}

    b = make_bundle(["sh", "-c", "tty; stty size 2>/dev/null || echo nostty; ls -l /dev/console; sleep 100"], edit)
    masters = []
    try:
        sampan.ok("create", "-b", b.path, "--console-socket", sock_path, "t1")
        conn, _ = server.accept()
        masters.append(recv_master(conn))
        conn.close()
        sampan.ok("start", "t1")
        out = _read_until(masters[0], b"console")
        assert b"/dev/pts/0" in out
        sampan.ok("exec", "-t", "--console-socket", sock_path, "-d", "t1", "sh", "-c", "tty; sleep 100")
        conn, _ = server.accept()
        masters.append(recv_master(conn))
        conn.close()
        assert b"/dev/pts/1" in _read_until(masters[1], b"/dev/pts/1")
        res = sampan("create", "-b", b.path, "t2")
        assert res.returncode == 1 and b"cannot allocate tty" in res.stderr
    finally:
        for fd in masters:
            os.close(fd)
        server.close()


def _read_until(fd: int, marker: bytes, timeout: float = 5) -> bytes:
    import select

    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out


def test_run_terminal_without_console_socket(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    """`run` in a terminal with terminal=true: the runtime proxies the pty, like runc."""
    import pty

    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["terminal"] = True

    b = make_bundle(["sh"], edit)
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sampan.binary, [sampan.binary, "--root", sampan.root, "run", "-b", b.path, "tty1"])
    try:
        _read_until(fd, b"# ")
        os.write(fd, b"\x1b[1;1R")  # busybox's shell asks where the cursor is
        os.write(fd, b"tty; echo marker-$((6*7)); exit 5\n")
        out = _read_until(fd, b"marker-42")
        assert b"/dev/pts/0" in out and b"marker-42" in out
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 5
    finally:
        os.close(fd)


def test_update(make_bundle: Callable[..., Bundle], sampan: Runtime, tmp_path: Any) -> None:
    b = make_bundle(["sleep", "100"])
    sampan.ok("run", "-d", "-b", b.path, "u1")
    sampan.ok("update", "--memory", "33554432", "--pids-limit", "50", "u1")
    assert Path(_cgroup_dir(b), "memory.limit_in_bytes").read_text().strip() == "33554432"
    assert Path(_cgroup_dir(b, "pids"), "pids.max").read_text().strip() == "50"
    (tmp_path / "res.json").write_text(json.dumps({"pids": {"limit": 60}}))
    sampan.ok("update", "-r", str(tmp_path / "res.json"), "u1")
    assert Path(_cgroup_dir(b, "pids"), "pids.max").read_text().strip() == "60"
    res = sampan("update", "--memory", "lots", "u1")
    assert res.returncode == 1 and b"invalid value for --memory" in res.stderr
    sampan.ok("delete", "-f", "u1")


def test_exec_tty_without_console_socket(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    import pty

    b = make_bundle(["sleep", "100"])
    sampan.ok("run", "-d", "-b", b.path, "xt")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sampan.binary, [sampan.binary, "--root", sampan.root, "exec", "-t", "xt", "sh", "-c",
                                 "tty; echo marker-$((6*7)); exit 4"])
    try:
        out = _read_until(fd, b"marker-42")
        assert b"/dev/pts/0" in out and b"marker-42" in out
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 4
    finally:
        os.close(fd)
    sampan.ok("delete", "-f", "xt")


def test_start_container_hook_runs_inside(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["root"]["readonly"] = False
        spec["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": [
            "sh", "-c", 'read -r state; echo "$state" > /tmp/hook-state; hostname > /tmp/hook-host']}]}

    b = make_bundle(["sh", "-c", "cat /tmp/hook-host; grep -o '\"status\": *\"[a-z]*\"' /tmp/hook-state"], edit)
    out = sampan.ok("run", "-b", b.path, "sc1").split("\n")
    assert out[0] == "sampan" and '"running"' in out[1]


def test_init_and_exec_are_born_in_the_container_cgroup(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    """stage1 and exec's child move themselves into the cgroup before forking: check the result."""
    b = make_bundle(["sleep", "100"])
    want = b.spec["linux"].get("cgroupsPath") or "/sampan/c20"
    sampan.ok("run", "-d", "-b", b.path, "c20")
    init_pid = json.loads(sampan.ok("state", "c20"))["pid"]
    with open(f"/proc/{init_pid}/cgroup") as f:
        lines = f.read().split()
    assert lines and all(line.split(":", 2)[2] == want for line in lines), lines
    assert sampan.ok("exec", "c20", "cat", "/proc/self/cgroup") == sampan.ok("exec", "c20", "cat", "/proc/1/cgroup")
