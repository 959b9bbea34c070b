"""`sampan` container commands against a real sampand: output, exit codes, lifecycle, and `-it`
through a real pty (echoing input, detaching with Ctrl-P Ctrl-Q)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
ID = re.compile(r"[0-9a-f]{64}")


def sampan(daemon: DaemonProcess, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    return subprocess.run([sys.executable, "-m", "sampan.cli.main", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_run_rm_echo(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = sampan(daemon, "run", "--rm", "--name", "echoer", busybox_ref, "echo", "hi")
    assert (r.returncode, r.stdout, r.stderr) == (0, "hi\n", "")
    assert "echoer" not in sampan(daemon, "ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_stdout_stderr_and_stdin(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = sampan(daemon, "run", "--rm", busybox_ref, "sh", "-c", "echo out; echo err >&2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "out\n", "err\n")
    r = sampan(daemon, "run", "--rm", "-i", busybox_ref, "cat", stdin="line 1\nline 2\n")
    assert (r.returncode, r.stdout) == (0, "line 1\nline 2\n")


def test_exit_codes(daemon: DaemonProcess, busybox_ref: str) -> None:
    assert sampan(daemon, "run", "--rm", busybox_ref, "sh", "-c", "exit 3").returncode == 3
    r = sampan(daemon, "run", "--rm", busybox_ref, "no-such-command")
    assert r.returncode == 127, r
    assert r.stderr.startswith("sampan: Error response from daemon: ") and "no-such-command" in r.stderr
    r = sampan(daemon, "run", "--rm", busybox_ref, "/etc/passwd")
    assert r.returncode == 126, r
    sampan(daemon, "create", "--name", "taken", busybox_ref)
    r = sampan(daemon, "run", "--name", "taken", busybox_ref)
    assert r.returncode == 125 and 'The container name "/taken" is already in use' in r.stderr, r
    r = sampan(daemon, "run", "--rm", "-m", "lots", busybox_ref)
    assert r.returncode == 125 and "invalid size: 'lots'" in r.stderr
    assert sampan(daemon, "rm", "taken").stdout == "taken\n"


def test_run_pulls_a_missing_image(daemon: DaemonProcess, unpulled_ref: str) -> None:
    r = sampan(daemon, "run", "--rm", unpulled_ref)
    assert r.returncode == 0, r
    assert r.stdout == "from-a-pulled-image\n"
    assert r.stderr.startswith(f"Unable to find image '{unpulled_ref}' locally\n")
    assert f"Status: Downloaded newer image for {unpulled_ref}" in r.stderr


def test_detached_logs_stop_rm(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = sampan(daemon, "run", "-d", "--name", "bg", busybox_ref, "sh", "-c",
               "echo started; echo oops >&2; trap 'exit 0' TERM; sleep 100 & wait")
    assert r.returncode == 0 and ID.fullmatch(r.stdout.strip()), r
    cid = r.stdout.strip()
    deadline = time.monotonic() + 10
    while "started" not in (logs := sampan(daemon, "logs", "bg")).stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (logs.stdout, logs.stderr) == ("started\n", "oops\n")
    stamped = sampan(daemon, "logs", "-t", "bg")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z started\n", stamped.stdout), stamped
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z oops\n", stamped.stderr), stamped
    last = sampan(daemon, "logs", "-n", "1", "bg")
    assert (last.stdout, last.stderr) == ("", "oops\n")
    ps = sampan(daemon, "ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}").stdout
    assert f"{cid} bg running\n" in ps
    assert sampan(daemon, "stop", "-t", "5", "bg").stdout == "bg\n"
    assert sampan(daemon, "wait", "bg").stdout == "0\n"
    status = sampan(daemon, "ps", "-a", "--filter", "name=bg", "--format", "{{.Status}}").stdout
    assert status.startswith("Exited (0) ")
    r = sampan(daemon, "rm", "bg", "bg")
    assert r.returncode == 1 and r.stdout == "bg\n" and "No such container: bg" in r.stderr


def test_ps_table_and_quiet(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = sampan(daemon, "run", "-d", "--name", "lister", busybox_ref, "sleep", "60").stdout.strip()
    try:
        table = sampan(daemon, "ps").stdout.splitlines()
        assert table[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
        row = next(line for line in table if line.endswith("lister"))
        assert row.startswith(cid[:12] + "   ") and '"sleep 60"' in row and " Up " in row
        assert cid[:12] in sampan(daemon, "ps", "-q").stdout.split()
        rows = [json.loads(x) for x in sampan(daemon, "container", "ls", "--format", "json").stdout.splitlines()]
        assert any(x["Names"] == "lister" and x["State"] == "running" for x in rows)
        inspect = json.loads(sampan(daemon, "inspect", "lister").stdout)
        assert inspect[0]["Id"] == cid and inspect[0]["State"]["Running"] is True
    finally:
        assert sampan(daemon, "rm", "-f", "lister").stdout == "lister\n"


DIFFERENTIAL = [
    ["run", "--rm", "{image}", "sh", "-c", "echo out; echo err >&2; exit 5"],
    ["run", "--rm", "{image}", "no-such-command"],
    ["run", "--rm", "-a", "stderr", "{image}", "sh", "-c", "echo hidden; echo shown >&2"],
    ["run", "--rm", "-e", "A=1", "-w", "/tmp", "-u", "1:2", "{image}", "sh", "-c", "echo $A $(pwd) $(id -u):$(id -g)"],
    ["run", "--rm", "--read-only", "{image}", "sh", "-c", "echo x > /f"],
    ["run", "--rm", "--entrypoint", "echo", "{image}", "entry"],
    ["rm", "no-such-container"],
    ["logs", "no-such-container"],
]


@pytest.mark.parametrize("argv", DIFFERENTIAL, ids=[" ".join(a[2:] if a[0] == "run" else a) for a in DIFFERENTIAL])
def test_same_as_docker(daemon: DaemonProcess, busybox_ref: str, argv: list[str]) -> None:
    """The docker CLI and sampan against the same sampand: same output and exit status."""
    args = [a.format(image=busybox_ref) for a in argv]
    want = daemon.docker(*args, cli="/usr/local/bin/docker")
    got = sampan(daemon, *args)
    # docker also logs its wait's error (a logrus line) when a start fails: not part of the contract
    want_err = "".join(line for line in want.stderr.splitlines(True) if not line.startswith('time="'))
    assert (got.returncode, got.stdout, got.stderr.replace("sampan", "docker")) == \
        (want.returncode, want.stdout, want_err)


def _read_until(master: int, want: bytes, out: bytearray, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while want not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                return want in out
            if not data:
                break
            out += data
    return want in out


def test_run_it_in_a_pty_echoes_and_detaches(daemon: DaemonProcess, busybox_ref: str) -> None:
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    proc = subprocess.Popen([sys.executable, "-m", "sampan.cli.main", "run", "-it", "--name", "tty", busybox_ref,
                             "sh"], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))  # our terminal: SIGWINCH
    os.close(slave)
    out = bytearray()
    try:
        os.write(master, b"stty size; echo typed-$((40+2))\r")
        assert _read_until(master, b"typed-42", out), bytes(out)
        assert b"33 101" in out, bytes(out)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        time.sleep(0.3)
        os.write(master, b"stty size; echo resized-$((1+1))\r")
        assert _read_until(master, b"resized-2", out), bytes(out)
        assert b"40 120" in out, bytes(out)
        os.write(master, b"\x10\x11")  # Ctrl-P Ctrl-Q
        assert proc.wait(timeout=15) == 0
        state = json.loads(sampan(daemon, "inspect", "--format", "{{json .State}}", "tty").stdout)
        assert state["Running"] is True
        r = sampan(daemon, "rm", "-f", "tty")
        assert r.returncode == 0, r
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_logs_follow_kill_restart_prune(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = sampan(daemon, "run", "-d", "--name", "counter", busybox_ref, "sh", "-c",
               "for i in 1 2 3; do echo $i; sleep 0.2; done")
    assert r.returncode == 0, r
    follow = sampan(daemon, "logs", "-f", "counter", timeout=30)
    assert (follow.returncode, follow.stdout) == (0, "1\n2\n3\n")
    assert sampan(daemon, "wait", "counter").stdout == "0\n"
    assert sampan(daemon, "run", "-d", "--name", "sleeper", busybox_ref, "sleep", "100").returncode == 0
    assert sampan(daemon, "restart", "-t", "0", "sleeper").stdout == "sleeper\n"
    assert json.loads(sampan(daemon, "inspect", "--format", "{{json .State.Running}}", "sleeper").stdout) is True
    assert sampan(daemon, "kill", "-s", "KILL", "sleeper").stdout == "sleeper\n"
    assert sampan(daemon, "wait", "sleeper").stdout == "137\n"
    r = sampan(daemon, "container", "prune", "-f")
    assert re.fullmatch(r"Deleted Containers:\n([0-9a-f]{64}\n)+\nTotal reclaimed space: \S+B\n", r.stdout), r
    left = sampan(daemon, "ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert "counter" not in left and "sleeper" not in left


def test_run_rm_it_exit_code_from_the_shell(daemon: DaemonProcess, busybox_ref: str) -> None:
    master, slave = pty.openpty()
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    proc = subprocess.Popen([sys.executable, "-m", "sampan.cli.main", "run", "--rm", "-it", "--name", "shell",
                             busybox_ref, "sh"], stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    out = bytearray()
    try:
        os.write(master, b"test -t 0 && echo stdin-tty-$((1+1))\r")
        assert _read_until(master, b"stdin-tty-2", out), bytes(out)
        os.write(master, b"exit 5\r")
        assert proc.wait(timeout=15) == 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert "shell" not in sampan(daemon, "ps", "-a", "--format", "{{.Names}}").stdout.split()
