"""`docker exec` through the unmodified docker CLI against sampand: output, exit codes, the
exec options, detached execs, a pty, errors, and that an exec never gets more than its container."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.integration.containers.test_tty import run_in_pty
from tests.support.daemon import DOCKER_CLI, DaemonProcess

pytestmark = [pytest.mark.root, pytest.mark.skipif(not os.path.exists(DOCKER_CLI), reason="no docker CLI")]


def docker(daemon: DaemonProcess, *args: str, input: str | None = None) -> tuple[int, str, str]:
    r = daemon.docker(*args, input=input, timeout=60)
    return r.returncode, r.stdout, r.stderr


def run_detached(daemon: DaemonProcess, image: str, *args: str) -> str:
    code, out, err = docker(daemon, "run", "-d", *args, image)
    assert code == 0, err
    return out.strip()


def test_output_exit_code_and_options(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref, "-e", "FROM_RUN=r")
    assert docker(daemon, "exec", cid, "sh", "-c", "echo out; echo err >&2; exit 3") == (3, "out\n", "err\n")
    code, out, err = docker(daemon, "exec", "-u", "app", "-w", "/srv", "-e", "A=b", "-e", "FROM_RUN=x", cid,
                            "sh", "-c", "id; pwd; echo $A $FROM_RUN $FROM_IMAGE")
    assert code == 0, err
    assert out == "uid=1000(app) gid=1000(app) groups=1000(app),1500(extra)\n/srv\nb x 1\n"
    code, out, _ = docker(daemon, "exec", "-u", "1234:99", cid, "id")
    assert out.startswith("uid=1234 gid=99") and code == 0
    code, out, _ = docker(daemon, "exec", cid, "sh", "-c", "id -u; pwd; echo $FROM_RUN; test -t 0 || echo notty")
    assert (code, out) == (0, "0\n/\nr\nnotty\n")
    assert docker(daemon, "exec", "-i", cid, "cat", input="from stdin\n")[:2] == (0, "from stdin\n")
    env_file = os.path.join(daemon.tmpdir, "exec.env")
    with open(env_file, "w") as f:
        f.write("# comment\nFILE_VAR=1\n")
    assert docker(daemon, "exec", "--env-file", env_file, cid, "sh", "-c", "echo $FILE_VAR")[:2] == (0, "1\n")


def test_not_found_not_executable_and_unknown_user(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref)
    code, out, _ = docker(daemon, "exec", cid, "nothere")
    assert code == 127 and "executable file not found" in out, (code, out)
    code, out, _ = docker(daemon, "exec", cid, "/srv/notexec")
    assert code == 126 and "permission denied" in out
    code, out, err = docker(daemon, "exec", "-u", "nobody-here", cid, "id")
    assert code != 0 and "unable to find user nobody-here" in out + err


def test_stopped_paused_and_missing_containers(daemon: DaemonProcess, exec_ref: str) -> None:
    code, out, err = docker(daemon, "create", exec_ref)
    cid = out.strip()
    code, out, err = docker(daemon, "exec", cid, "true")
    assert code == 1 and err == f"Error response from daemon: Container {cid} is not running\n"
    code, _, err = docker(daemon, "exec", "no-such-container", "true")
    assert code == 1 and "No such container: no-such-container" in err
    cid = run_detached(daemon, exec_ref)
    assert docker(daemon, "pause", cid)[0] == 0
    try:
        code, _, err = docker(daemon, "exec", cid, "true")
        assert code == 1 and f"Container {cid} is paused, unpause the container before exec" in err
    finally:
        assert docker(daemon, "unpause", cid)[0] == 0


def test_detached_exec_keeps_running(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref)
    code, out, err = docker(daemon, "exec", "-d", cid, "sleep", "123")
    assert (code, out) == (0, ""), err
    deadline = time.monotonic() + 10
    while "sleep 123" not in docker(daemon, "top", cid)[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "sleep 123" in docker(daemon, "top", cid)[1]
    info = json.loads(docker(daemon, "inspect", cid)[1])[0]
    assert len(info["ExecIDs"]) == 1
    status, ex = daemon.json("GET", f"/exec/{info['ExecIDs'][0]}/json")
    assert status == 200 and ex["Running"] is True and ex["ExitCode"] is None and ex["Pid"] > 0
    assert ex["ProcessConfig"] == {"tty": False, "entrypoint": "sleep", "arguments": ["123"], "privileged": False}
    os.kill(ex["Pid"], 9)
    deadline = time.monotonic() + 10
    while daemon.json("GET", f"/exec/{ex['ID']}/json")[1]["Running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    status, ex = daemon.json("GET", f"/exec/{ex['ID']}/json")
    assert ex["Running"] is False and ex["ExitCode"] == 137
    assert json.loads(docker(daemon, "inspect", cid)[1])[0]["ExecIDs"] is None


def test_exec_it_through_a_pty(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref)
    code, out = run_in_pty(daemon, ["exec", "-t", cid, "sh", "-c", "test -t 1 && echo is-a-tty; echo $TERM; exit 3"])
    assert code == 3 and b"is-a-tty\r" in out and b"xterm\r" in out, out
    code, out = run_in_pty(daemon, ["exec", "-it", cid, "sh", "-c", "echo READY; read line; echo got:$line; exit 4"],
                           typed=b"hello\r")
    assert code == 4 and b"got:hello" in out, out


STATUS_KEYS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")


def _status(text: str) -> dict[str, str]:
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines()) if k in STATUS_KEYS}


def test_exec_has_no_more_than_its_container(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref, "--read-only", "--cap-drop", "ALL", "--cap-add", "CHOWN",
                       "--security-opt", "no-new-privileges", "--pids-limit", "50")
    init = _status(docker(daemon, "exec", cid, "cat", "/proc/1/status")[1])
    mine = _status(docker(daemon, "exec", cid, "cat", "/proc/self/status")[1])
    assert mine == init and len(mine) == len(STATUS_KEYS)
    assert mine["CapEff"] == mine["CapBnd"] == f"{1 << 0:016x}"  # CAP_CHOWN only
    assert mine["NoNewPrivs"] == "1" and mine["Seccomp"] == "2"
    assert docker(daemon, "exec", cid, "cat", "/proc/self/cgroup")[1] == docker(daemon, "exec", cid, "cat",
                                                                                "/proc/1/cgroup")[1]
    script = ("for n in mnt pid net ipc uts cgroup user; do "
              "echo $(readlink /proc/1/ns/$n) $(readlink /proc/self/ns/$n); done")
    code, out, err = docker(daemon, "exec", cid, "sh", "-c", script)
    assert code == 0, err
    for line in out.splitlines():
        a, b = line.split()
        assert a == b
    code, _, err = docker(daemon, "exec", cid, "touch", "/x")
    assert code != 0 and "Read-only file system" in err
    code, out, _ = docker(daemon, "exec", "-u", "app", cid, "cat", "/proc/self/status")
    assert _status(out)["CapEff"] == "0" * 16 and _status(out)["CapBnd"] == mine["CapBnd"]
    code, out, _ = docker(daemon, "exec", "--privileged", cid, "cat", "/proc/self/status")
    assert int(_status(out)["CapEff"], 16) > 1 and _status(out)["Seccomp"] == "2"  # the container's filter stays


def test_exec_it_detach_keys_leave_the_process_running(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref)
    t0 = time.monotonic()
    code, out = run_in_pty(daemon, ["exec", "-it", cid, "sh", "-c", "echo READY; read x; echo never"],
                           typed=b"\x10\x11")
    # the docker CLI reports a detached exec as an error of its own, status 1
    assert code == 1 and b"read escape sequence" in out and b"never" not in out and time.monotonic() - t0 < 10, out
    info = json.loads(docker(daemon, "inspect", cid)[1])[0]
    assert len(info["ExecIDs"]) == 1
    assert daemon.json("GET", f"/exec/{info['ExecIDs'][0]}/json")[1]["Running"] is True
    code, out = run_in_pty(daemon, ["exec", "-it", "--detach-keys", "ctrl-x", cid, "sh", "-c", "echo READY; read x"],
                           typed=b"\x18")
    assert code == 1 and len(json.loads(docker(daemon, "inspect", cid)[1])[0]["ExecIDs"]) == 2


def test_exec_runs_as_the_container_user_unless_told(daemon: DaemonProcess, exec_ref: str) -> None:
    cid = run_detached(daemon, exec_ref, "-u", "app", "-w", "/srv")
    code, out, err = docker(daemon, "exec", cid, "sh", "-c", "id -u; pwd; cat /proc/self/status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["1000", "/srv"] and _status(out)["CapEff"] == "0" * 16
    code, out, err = docker(daemon, "exec", "-u", "root", cid, "cat", "/proc/self/status")
    assert code == 0 and int(_status(out)["CapEff"], 16) == int(_status(out)["CapBnd"], 16) != 0
