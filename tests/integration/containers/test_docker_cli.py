"""`docker run` and friends through the unmodified docker CLI (28.x and 20.10) against sampand."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.integration.containers.conftest import mounts_under
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
CLIS = [c for c in ("/usr/local/bin/docker", "/usr/bin/docker") if os.path.exists(c)]


def docker(daemon: DaemonProcess, *args: str, cli: str = CLIS[0] if CLIS else "docker",
           input: str | None = None, timeout: float = 60) -> tuple[int, str, str]:
    r = daemon.docker(*args, cli=cli, input=input, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
@pytest.mark.parametrize("cli", CLIS)
def test_run_rm_echo_and_exit_codes(daemon: DaemonProcess, busybox_ref: str, cli: str) -> None:
    code, out, err = docker(daemon, "run", "--rm", busybox_ref, "echo", "hi", cli=cli)
    assert (code, out) == (0, "hi\n"), err
    code, out, err = docker(daemon, "run", "--rm", busybox_ref, "sh", "-c", "echo out; echo err >&2; exit 3", cli=cli)
    assert (code, out, err) == (3, "out\n", "err\n")
    code, out, _ = docker(daemon, "run", "--rm", "-i", busybox_ref, "cat", cli=cli, input="from stdin\n")
    assert (code, out) == (0, "from stdin\n")
    code, out, _ = docker(daemon, "ps", "-aq", cli=cli)
    assert out == ""  # --rm removed them


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
@pytest.mark.parametrize("cli", CLIS)
def test_detached_logs_stop_rm(daemon: DaemonProcess, busybox_ref: str, cli: str) -> None:
    code, out, err = docker(daemon, "run", "-d", "--name", "bg", "--label", "k=v", busybox_ref, "sh", "-c",
                            "echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done", cli=cli)
    assert code == 0, err
    cid = out.strip()
    assert len(cid) == 64
    deadline = time.monotonic() + 10
    while "started" not in docker(daemon, "logs", "bg", cli=cli)[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    code, out, _ = docker(daemon, "ps", "--format", "{{.Names}} {{.Status}} {{.Labels}}", cli=cli)
    assert out.startswith("bg Up ") and "k=v" in out
    code, out, _ = docker(daemon, "inspect", "bg", cli=cli)
    data = json.loads(out)[0]
    assert data["Id"] == cid and data["Name"] == "/bg" and data["State"]["Running"] is True
    assert os.path.exists(f"/proc/{data['State']['Pid']}")
    assert data["Config"]["Labels"] == {"k": "v"} and data["HostConfig"]["NetworkMode"] in ("default", "bridge")
    assert data["HostConfig"]["Runtime"] == "sampan-runtime"
    if data["GraphDriver"]["Name"] == "overlay2":
        assert os.path.isdir(data["GraphDriver"]["Data"]["UpperDir"])
    code, _, err = docker(daemon, "rm", "bg", cli=cli)
    assert code != 0 and "You cannot remove a running container" in err
    t0 = time.monotonic()
    assert docker(daemon, "stop", "bg", cli=cli)[0] == 0
    assert time.monotonic() - t0 < 5  # the TERM trap ran: no 10 s timeout
    code, out, _ = docker(daemon, "logs", "-t", "bg", cli=cli)
    lines = out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["started", "bye"]
    code, out, _ = docker(daemon, "ps", "-a", "--filter", "name=bg", "--format", "{{.Status}}", cli=cli)
    assert out.startswith("Exited (0)")
    assert docker(daemon, "rm", "bg", cli=cli)[0] == 0
    assert not os.path.exists(os.path.join(daemon.data_root, "containers", cid))
    assert docker(daemon, "inspect", "bg", cli=cli)[0] != 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_stop_kills_after_timeout_and_kill_restart(daemon: DaemonProcess, busybox_ref: str) -> None:
    script = "trap '' TERM; while true; do sleep 0.1; done"
    code, out, err = docker(daemon, "run", "-d", busybox_ref, "sh", "-c", script)
    assert code == 0, err
    cid = out.strip()
    t0 = time.monotonic()
    assert docker(daemon, "stop", "-t", "1", cid)[0] == 0
    assert 0.9 < time.monotonic() - t0 < 6
    assert docker(daemon, "inspect", "-f", "{{.State.ExitCode}}", cid)[1].strip() == "137"
    assert docker(daemon, "restart", "-t", "0", cid)[0] == 0
    assert docker(daemon, "inspect", "-f", "{{.State.Running}}", cid)[1].strip() == "true"
    assert docker(daemon, "kill", "-s", "KILL", cid)[0] == 0
    assert docker(daemon, "wait", cid)[1].strip() == "137"
    code, _, err = docker(daemon, "kill", cid)
    assert code != 0 and "is not running" in err
    assert docker(daemon, "rm", "-f", cid)[0] == 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_name_conflict_and_ps_filters(daemon: DaemonProcess, busybox_ref: str) -> None:
    code, out, _ = docker(daemon, "create", "--name", "dup", busybox_ref, "true")
    assert code == 0
    cid = out.strip()
    code, _, err = docker(daemon, "create", "--name", "dup", busybox_ref, "true")
    assert code != 0
    assert (f'Conflict. The container name "/dup" is already in use by container "{cid}". You have to remove '
            "(or rename) that container to be able to reuse that name.") in err
    code, out, _ = docker(daemon, "ps", "-a", "--filter", "status=created", "--format", "{{.ID}} {{.Status}}")
    assert out.strip() == f"{cid[:12]} Created"
    code, out, _ = docker(daemon, "container", "prune", "-f")
    assert cid in out
    assert docker(daemon, "ps", "-aq")[1] == ""


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_pause_attach_start_a(daemon: DaemonProcess, busybox_ref: str) -> None:
    code, out, _ = docker(daemon, "run", "-d", busybox_ref, "sh", "-c", "while true; do sleep 0.1; done")
    cid = out.strip()
    assert docker(daemon, "pause", cid)[0] == 0
    assert docker(daemon, "inspect", "-f", "{{.State.Status}}", cid)[1].strip() == "paused"
    assert "(Paused)" in docker(daemon, "ps", "--format", "{{.Status}}")[1]
    assert docker(daemon, "unpause", cid)[0] == 0
    assert docker(daemon, "pause", cid)[0] == 0
    assert docker(daemon, "rm", "-f", cid)[0] == 0  # a paused container is thawed to die
    cid = docker(daemon, "run", "-d", busybox_ref, "sleep", "30")[1].strip()
    assert docker(daemon, "pause", cid)[0] == 0
    assert docker(daemon, "kill", cid)[0] == 0
    assert docker(daemon, "wait", cid)[1].strip() == "137"
    assert docker(daemon, "rm", cid)[0] == 0
    code, out, _ = docker(daemon, "create", "-i", busybox_ref, "sh", "-c", "read x; echo got:$x; exit 6")
    cid = out.strip()
    code, out, _ = docker(daemon, "start", "-a", "-i", cid, input="line\n")
    assert (code, out) == (6, "got:line\n")
    code, out, _ = docker(daemon, "start", "-a", "-i", cid, input="again\n")  # an exited container
    assert (code, out) == (6, "got:again\n")
    cid2 = docker(daemon, "run", "-d", busybox_ref, "echo", "once")[1].strip()
    assert docker(daemon, "wait", cid2)[1].strip() == "0"
    assert docker(daemon, "start", "-a", cid2)[1] == "once\n"
    assert docker(daemon, "logs", cid2)[1] == "once\nonce\n"
    assert docker(daemon, "rm", cid2)[0] == 0
    assert docker(daemon, "rm", cid)[0] == 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_concurrent_runs(daemon: DaemonProcess, busybox_ref: str) -> None:
    import subprocess

    procs = [subprocess.Popen([CLIS[0], "run", "--rm", busybox_ref, "echo", str(i)], env=daemon.docker_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(50)]
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += "\n(timed out)\n" + daemon.log()[-4000:]
        results.append((p.returncode, out, err))
    assert [(code, out) for code, out, _ in results] == [(0, f"{i}\n") for i in range(50)], results
    assert docker(daemon, "ps", "-aq")[1] == ""


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_logs_follow_until_exit_and_rotation(daemon: DaemonProcess, busybox_ref: str) -> None:
    code, out, _ = docker(daemon, "run", "-d", busybox_ref, "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done")
    cid = out.strip()
    code, out, _ = docker(daemon, "logs", "-f", cid)
    assert (code, out) == (0, "1\n2\n3\n")
    assert docker(daemon, "rm", cid)[0] == 0
    code, out, err = docker(daemon, "run", "--log-opt", "max-size=2k", "--log-opt", "max-file=3", "--name", "rot",
                            busybox_ref, "sh", "-c", "seq 1 2000 >/dev/null; i=0; while [ $i -lt 600 ]; do "
                            "echo line-$i; i=$((i+1)); done")
    assert code == 0, err
    log_path = docker(daemon, "inspect", "-f", "{{.LogPath}}", "rot")[1].strip()
    assert os.path.exists(log_path + ".1") and os.path.exists(log_path + ".2")
    assert not os.path.exists(log_path + ".3")
    lines = docker(daemon, "logs", "rot")[1].splitlines()
    assert lines[-1] == "line-599" and 0 < len(lines) < 600  # the oldest lines rotated away, in order
    assert lines == [f"line-{i}" for i in range(600 - len(lines), 600)]
    assert docker(daemon, "logs", "--tail", "2", "rot")[1] == "line-598\nline-599\n"
    assert docker(daemon, "rm", "rot")[0] == 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
@pytest.mark.parametrize("cli", CLIS)
def test_run_missing_command(daemon: DaemonProcess, busybox_ref: str, cli: str) -> None:
    code, _, err = docker(daemon, "run", "--rm", busybox_ref, "/no/such/cmd", cli=cli, timeout=30)
    assert code == 127, err
    code, _, err = docker(daemon, "run", "--name", "nocmd", busybox_ref, "/no/such/cmd", cli=cli, timeout=30)
    assert code == 127, err
    assert docker(daemon, "inspect", "-f", "{{.State.ExitCode}}", "nocmd")[1].strip() == "127"
    assert docker(daemon, "rm", "nocmd")[0] == 0
    assert docker(daemon, "ps", "-aq")[1] == ""


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_attach_to_running_container(daemon: DaemonProcess, busybox_ref: str) -> None:
    code, out, _ = docker(daemon, "run", "-d", "-i", busybox_ref, "sh", "-c", "read x; echo got:$x; exit 9")
    cid = out.strip()
    code, out, err = docker(daemon, "attach", cid, input="hello\n")
    assert (code, out) == (9, "got:hello\n"), err
    assert docker(daemon, "rm", cid)[0] == 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_restart_policies(daemon: DaemonProcess, busybox_ref: str) -> None:
    code, out, err = docker(daemon, "run", "-d", "--restart", "on-failure:2", busybox_ref, "sh", "-c", "exit 3")
    assert code == 0, err
    cid = out.strip()
    deadline = time.monotonic() + 10
    fmt = "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}"
    while time.monotonic() < deadline:
        state = docker(daemon, "inspect", "-f", fmt, cid)[1].split()
        if state == ["exited", "2", "3"]:
            break
        time.sleep(0.05)
    assert state == ["exited", "2", "3"]
    time.sleep(0.5)
    assert docker(daemon, "inspect", "-f", fmt, cid)[1].split() == ["exited", "2", "3"]
    assert docker(daemon, "rm", cid)[0] == 0
    code, out, _ = docker(daemon, "run", "-d", "--restart", "always", busybox_ref, "sh", "-c", "sleep 0.2")
    cid = out.strip()
    deadline = time.monotonic() + 10
    while int(docker(daemon, "inspect", "-f", "{{.RestartCount}}", cid)[1]) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int(docker(daemon, "inspect", "-f", "{{.RestartCount}}", cid)[1]) >= 1
    assert docker(daemon, "stop", "-t", "1", cid)[0] == 0
    time.sleep(0.5)
    assert docker(daemon, "inspect", "-f", "{{.State.Status}}", cid)[1].strip() == "exited"  # stopped stays stopped
    assert docker(daemon, "rm", cid)[0] == 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_rename(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = docker(daemon, "create", "--name", "old-name", busybox_ref, "true")[1].strip()
    assert docker(daemon, "rename", "old-name", "new-name")[0] == 0
    assert docker(daemon, "inspect", "-f", "{{.Name}}", cid)[1].strip() == "/new-name"
    assert docker(daemon, "create", "--name", "old-name", busybox_ref, "true")[0] == 0  # the old name is free
    assert docker(daemon, "rm", "old-name", "new-name")[0] == 0


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_top(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = docker(daemon, "run", "-d", busybox_ref, "sh", "-c", "sleep 30 & sleep 31")[1].strip()
    try:
        deadline = time.monotonic() + 5
        out = ""
        while time.monotonic() < deadline and out.count("sleep 3") < 2:
            code, out, err = docker(daemon, "top", cid)
            assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split()[:2] == ["UID", "PID"]
        assert any(line.endswith("sleep 30") for line in lines) and any(line.endswith("sleep 31") for line in lines)
        assert len(lines) == 3  # both sleeps (sh exec'd the last one)
    finally:
        docker(daemon, "rm", "-f", cid)


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_stats_no_stream(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = docker(daemon, "run", "-d", "-m", "64m", "--name", "statme", busybox_ref, "sleep", "30")[1].strip()
    try:
        code, out, err = docker(daemon, "stats", "--no-stream", "--format",
                                "{{.Name}} {{.MemUsage}} {{.PIDs}} {{.CPUPerc}}", cid)
        assert code == 0, err
        name, used, _, limit, pids, cpu = out.split()
        assert name == "statme" and limit == "64MiB" and pids == "1" and cpu.endswith("%") and used.endswith("B")
    finally:
        docker(daemon, "rm", "-f", cid)


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_run_options_reach_the_container(daemon: DaemonProcess, busybox_ref: str, tmp_path: object) -> None:
    src = os.path.join(str(tmp_path), "src")
    os.makedirs(src)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("from host\n")
    script = ("id -u; pwd; echo $A; hostname; touch /x 2>/dev/null || echo rootfs-ro; touch /run/ok && echo tmpfs-rw; "
              "cat /mnt/f; touch /mnt/g 2>/dev/null || echo bind-ro; cat /etc/hostname")
    code, out, err = docker(daemon, "run", "--rm", "-u", "65534", "-w", "/tmp", "-e", "A=b", "--hostname", "hh",
                            "--read-only", "--tmpfs", "/run:mode=1777", "-v", f"{src}:/mnt:ro", busybox_ref, "sh", "-c",
                            script)
    assert code == 0, err
    assert out.splitlines() == ["65534", "/tmp", "b", "hh", "rootfs-ro", "tmpfs-rw", "from host", "bind-ro", "hh"]


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
def test_diff_and_export(daemon: DaemonProcess, busybox_ref: str, tmp_path: object) -> None:
    import tarfile

    cid = docker(daemon, "run", "-d", busybox_ref, "sh", "-c", "mkdir /new && echo x > /new/f && rm /bin/ls")[1].strip()
    assert docker(daemon, "wait", cid)[1].strip() == "0"
    code, out, err = docker(daemon, "diff", cid)
    if code != 0 and "only computed for overlay" in err:
        pytest.skip("optional: the native snapshotter has no diff")
    assert code == 0, err
    assert {"A /new", "A /new/f", "C /bin", "D /bin/ls"} <= set(out.splitlines())
    tar_path = os.path.join(str(tmp_path), "rootfs.tar")
    code, _, err = docker(daemon, "export", "-o", tar_path, cid)
    assert code == 0, err
    with tarfile.open(tar_path) as tf:
        names = set(tf.getnames())
    assert "new/f" in names and "bin/busybox" in names and "bin/ls" not in names
    assert docker(daemon, "rm", cid)[0] == 0
    assert not mounts_under(os.path.join(daemon.exec_root, "containers"))


@pytest.mark.skipif(not CLIS, reason="the docker CLI is not installed")
@pytest.mark.parametrize("cli", CLIS)
def test_cp(daemon: DaemonProcess, busybox_ref: str, tmp_path: object, cli: str) -> None:
    host = os.path.join(str(tmp_path), "in.txt")
    with open(host, "w") as f:
        f.write("copied in\n")
    cid = docker(daemon, "create", busybox_ref, "cat", "/tmp/in.txt", cli=cli)[1].strip()
    code, _, err = docker(daemon, "cp", host, f"{cid}:/tmp/", cli=cli)  # into a created container
    assert code == 0, err
    code, out, err = docker(daemon, "start", "-a", cid, cli=cli)
    assert (code, out) == (0, "copied in\n"), err
    out_dir = os.path.join(str(tmp_path), "out")
    code, _, err = docker(daemon, "cp", f"{cid}:/etc", out_dir, cli=cli)  # a directory out of a stopped one
    assert code == 0, err
    with open(os.path.join(out_dir, "passwd")) as f:
        assert f.read().startswith("root:x:0:0")
    code, _, err = docker(daemon, "cp", f"{cid}:/no/such", out_dir, cli=cli)
    # 28.x shows the daemon's message; 20.10 words a 404 to HEAD itself
    assert code != 0 and ("Could not find the file /no/such in container" in err or "No such container:path" in err)
    assert docker(daemon, "rm", cid, cli=cli)[0] == 0
    assert not mounts_under(os.path.join(daemon.exec_root, "containers"))
