"""sampan-shim against the real runc, as root, with busybox bundles in temp dirs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

import sampan
from sampan import errdefs
from sampan.shim import wire
from sampan.shim.client import ShimClient, read_exit, stop_zygote
from tests.integration.shim.conftest import ShimEnv, process_gone, wait_gone

pytestmark = pytest.mark.root


def read_log(path: str) -> list[dict[str, str]]:
    with open(path) as f:
        return [json.loads(line) for line in f]


def demux(sock: socket.socket, timeout: float = 10.0) -> tuple[bytes, bytes]:
    """Read a stdcopy stream to EOF: (stdout, stderr)."""
    sock.settimeout(timeout)
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    out = {wire.STDOUT: bytearray(), wire.STDERR: bytearray()}
    pos = 0
    while pos < len(data):
        stream, length = wire.parse_header(bytes(data[pos:pos + wire.HEADER_SIZE]))
        out[stream] += data[pos + wire.HEADER_SIZE:pos + wire.HEADER_SIZE + length]
        pos += wire.HEADER_SIZE + length
    return bytes(out[wire.STDOUT]), bytes(out[wire.STDERR])


def read_until(sock: socket.socket, needle: bytes, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while needle not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_output_logged_and_exit_code(shim_env: ShimEnv) -> None:
    client, cid, log_path = shim_env.spawn(["sh", "-c", "echo hello; echo err >&2; exit 3"])
    state = client.state()
    assert state.status == "created" and state.pid > 0 and state.id == cid
    assert client.start() == state.pid
    status = client.wait(timeout=10)
    assert status.exit_code == 3 and status.pid == state.pid and status.exited_at.endswith("Z")
    entries = read_log(log_path)
    assert [(e["log"], e["stream"]) for e in entries] == [("hello\n", "stdout"), ("err\n", "stderr")]
    assert all(e["time"].endswith("Z") for e in entries)
    assert read_exit(client.state_dir) == status
    assert client.state().status == "stopped"
    client.delete()


def test_sigkill_gives_137(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["sleep", "1000"])
    client.start()
    assert client.state().status == "running"
    client.kill("KILL")
    assert client.wait(timeout=10).exit_code == 137
    with pytest.raises(errdefs.Conflict):
        client.kill(9)
    client.delete()


def test_attach_stdin_and_live_output(shim_env: ShimEnv) -> None:
    client, _, log_path = shim_env.spawn(["cat"], stdin=True)
    sock = client.attach(stdin=True, stdout=True, stderr=True)
    watcher = client.attach(stdout=True, stderr=False)
    client.start()
    sock.sendall(b"one\n")
    assert read_until(sock, b"one\n").endswith(b"one\n")  # stdcopy header, then the line
    sock.sendall(b"two\n")
    sock.shutdown(socket.SHUT_WR)  # closes cat's stdin: cat ends
    out, err = demux(sock)
    assert out == b"two\n" and err == b""
    assert demux(watcher) == (b"one\ntwo\n", b"")
    assert client.wait(timeout=10).exit_code == 0
    assert [e["log"] for e in read_log(log_path)] == ["one\n", "two\n"]
    sock.close()
    watcher.close()
    client.delete()


def test_large_output_reaches_log_and_attach(shim_env: ShimEnv) -> None:
    client, _, log_path = shim_env.spawn(["seq", "1", "100000"])
    sock = client.attach()
    client.start()
    out, _ = demux(sock, timeout=30)
    expected = "".join(f"{i}\n" for i in range(1, 100001))
    assert out.decode() == expected
    assert client.wait(timeout=10).exit_code == 0
    assert "".join(e["log"] for e in read_log(log_path)) == expected
    sock.close()
    client.delete()


def test_tty_attach_and_resize(shim_env: ShimEnv) -> None:
    client, _, log_path = shim_env.spawn(["sh", "-c", "read x; stty size; echo done $x"], tty=True, stdin=True)
    assert client.state().tty
    sock = client.attach(stdin=True, stdout=True, stderr=False)
    client.start()
    client.resize(37, 111)
    sock.sendall(b"go\r")
    data = read_until(sock, b"done go")
    assert b"37 111" in data
    assert client.wait(timeout=10).exit_code == 0
    logged = "".join(e["log"] for e in read_log(log_path))
    assert "37 111" in logged
    assert {e["stream"] for e in read_log(log_path)} == {"stdout"}
    sock.close()
    client.delete()


def test_resize_without_tty_is_a_conflict(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["true"])
    with pytest.raises(errdefs.Conflict):
        client.resize(10, 10)
    client.delete()


def test_shim_outlives_its_spawner(shim_env: ShimEnv) -> None:
    cid, bundle, state_dir, log_path = shim_env.prepare(["sleep", "1000"])
    code = (
        "import sys; from sampan.shim.client import ShimClient;"
        f"ShimClient.spawn({cid!r}, {bundle!r}, {state_dir!r}, runtime={shim_env.runtime!r},"
        f" runtime_root={shim_env.runtime_root!r}, log_path={log_path!r}).start()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)  # the "daemon" exits
    client = ShimClient.connect(state_dir)
    shim_pid = client.shim_pid
    assert os.getsid(shim_pid) == shim_pid  # its own session
    assert client.state().status == "running"
    client.kill("SIGKILL")
    assert client.wait(timeout=10).exit_code == 137
    client.delete()
    assert wait_gone(shim_pid)


def test_exit_recorded_with_no_client(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["sh", "-c", "exit 7"])
    client.start()
    deadline = time.monotonic() + 10
    while (status := read_exit(client.state_dir)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert status is not None and status.exit_code == 7
    client.delete()


def test_delete_leaves_nothing(shim_env: ShimEnv) -> None:
    client, cid, _ = shim_env.spawn(["sh", "-c", "echo bye"])
    shim_pid = client.shim_pid
    client.start()
    client.wait(timeout=10)
    status = client.delete()
    assert status is not None and status.exit_code == 0
    assert wait_gone(shim_pid)
    assert not os.path.exists(client.state_dir)
    assert not shim_env.runtime_knows(cid)
    with pytest.raises(errdefs.Unavailable):
        client.state()


def test_delete_created_container(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["sleep", "1000"])
    shim_pid = client.shim_pid
    init_pid = client.state().pid
    status = client.delete()
    assert status is not None and status.exit_code == 137
    assert wait_gone(shim_pid) and process_gone(init_pid)


def test_delete_running_needs_force(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["sleep", "1000"])
    client.start()
    with pytest.raises(errdefs.Conflict):
        client.delete()
    status = client.delete(force=True)
    assert status is not None and status.exit_code == 137


def test_create_error_is_the_runtimes(shim_env: ShimEnv) -> None:
    cid, bundle, state_dir, log_path = shim_env.prepare(["/no/such/binary"])
    with pytest.raises(errdefs.System, match=r"no such file or directory|not found"):
        shim_env.spawn_prepared(cid, bundle, state_dir, log_path)
    assert not os.path.exists(state_dir)
    assert not shim_env.runtime_knows(cid)


def test_log_rotation(shim_env: ShimEnv) -> None:
    client, _, log_path = shim_env.spawn(["seq", "1", "3000"], log_opts={"max-size": "10k", "max-file": "3"})
    client.start()
    client.wait(timeout=10)
    assert os.path.exists(log_path + ".1") and os.path.exists(log_path + ".2")
    assert not os.path.exists(log_path + ".3")
    for path in (log_path, log_path + ".1", log_path + ".2"):
        assert os.path.getsize(path) < 10 * 1024 + 100
    assert read_log(log_path)[-1]["log"] == "3000\n"
    client.delete()


def test_zygote_forks_shims_that_outlive_it(shim_env: ShimEnv) -> None:
    zygote = os.path.join(shim_env.root, "zygote.sock")
    shim_env.zygotes.append(zygote)
    clients = []
    for args in (["sh", "-c", "echo from zygote"], ["sleep", "1000"]):
        cid, bundle, state_dir, log_path = shim_env.prepare(args)
        clients.append((shim_env.spawn_prepared(cid, bundle, state_dir, log_path, zygote=zygote), log_path))
    with open(zygote + ".pid") as f:
        zygote_pid = int(f.read())
    (echo, echo_log), (sleeper, _) = clients
    assert echo.shim_pid != sleeper.shim_pid and os.getsid(echo.shim_pid) == echo.shim_pid
    echo.start()
    assert echo.wait(timeout=10).exit_code == 0
    assert [e["log"] for e in read_log(echo_log)] == ["from zygote\n"]
    echo.delete()
    sleeper.start()
    stop_zygote(zygote)
    assert wait_gone(zygote_pid)
    sleeper.kill(9)
    assert sleeper.wait(timeout=10).exit_code == 137
    sleeper.delete()


def test_zygote_reports_create_errors(shim_env: ShimEnv) -> None:
    zygote = os.path.join(shim_env.root, "zygote.sock")
    shim_env.zygotes.append(zygote)
    cid, bundle, state_dir, _ = shim_env.prepare(["/no/such/binary"])
    with pytest.raises(errdefs.System, match=r"no such file or directory"):
        shim_env.spawn_prepared(cid, bundle, state_dir, None, zygote=zygote)
    assert not os.path.exists(state_dir)


def test_oom_kill_is_recorded(shim_env: ShimEnv) -> None:
    cid, bundle, state_dir, log_path = shim_env.prepare(["sh", "-c", "x=$(yes | head -c 200000000); echo survived"])
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    config["linux"]["resources"]["memory"] = {"limit": 16 << 20, "swap": 16 << 20}
    config["linux"]["cgroupsPath"] = f"/sampan-shimtest/{cid}"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    client = shim_env.spawn_prepared(cid, bundle, state_dir, log_path)
    client.start()
    status = client.wait(timeout=30)
    assert status.oom_killed  # the kernel killed something in the container
    assert read_exit(state_dir) == status
    client.delete()
    for controller in os.listdir("/sys/fs/cgroup"):
        try:
            os.rmdir(f"/sys/fs/cgroup/{controller}/sampan-shimtest")
        except OSError:
            pass


def test_wait_gives_up_on_output_held_by_an_escaped_process(shim_env: ShimEnv) -> None:
    cid, bundle, state_dir, log_path = shim_env.prepare(["sh", "-c", "sleep 1000 & echo hi"])
    with open(os.path.join(bundle, "config.json")) as f:
        config = json.load(f)
    config["linux"]["namespaces"] = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "pid"]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    client = shim_env.spawn_prepared(cid, bundle, state_dir, log_path)
    client.start()
    started = time.monotonic()
    assert client.wait(timeout=10).exit_code == 0
    assert 1.5 < time.monotonic() - started < 5  # the drain timeout, not forever
    assert [e["log"] for e in read_log(log_path)] == ["hi\n"]
    client.delete()  # runc kills what is left in the cgroup of a container without its own pid namespace


def test_attach_sees_only_output_after_it(shim_env: ShimEnv) -> None:
    client, _, log_path = shim_env.spawn(["sh", "-c", "echo early; read x; echo late $x >&2"], stdin=True)
    client.start()
    deadline = time.monotonic() + 10
    while not (os.path.exists(log_path) and os.path.getsize(log_path)) and time.monotonic() < deadline:
        time.sleep(0.01)
    sock = client.attach(stdin=True)
    sock.sendall(b"go\n")
    sock.shutdown(socket.SHUT_WR)
    assert demux(sock) == (b"", b"late go\n")
    assert client.wait(timeout=10).exit_code == 0
    assert [(e["log"], e["stream"]) for e in read_log(log_path)] == [("early\n", "stdout"), ("late go\n", "stderr")]
    sock.close()
    client.delete()


def test_big_stdin_round_trip_through_cat(shim_env: ShimEnv) -> None:
    import threading

    client, _, _ = shim_env.spawn(["cat"], stdin=True)
    sock = client.attach(stdin=True, stdout=True, stderr=True)
    client.start()
    payload = bytes(range(256)) * (8 * 4096)  # 8 MiB

    def feed() -> None:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=feed)
    writer.start()
    out, err = demux(sock, timeout=60)
    writer.join(10)
    assert out == payload and err == b""
    assert client.wait(timeout=10).exit_code == 0
    sock.close()
    client.delete()


def test_foreground_mode(shim_env: ShimEnv) -> None:
    cid, bundle, state_dir, log_path = shim_env.prepare(["sh", "-c", "echo fg"])
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(sampan.__file__))))
    proc = subprocess.Popen([sys.executable, "-S", "-m", "sampan.shim.main", "--foreground", "--id", cid,
                             "--bundle", bundle, "--state-dir", state_dir, "--runtime", shim_env.runtime,
                             "--runtime-root", shim_env.runtime_root, "--log-path", log_path],
                            stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ok\n"
        client = ShimClient.connect(state_dir)
        client.start()
        assert client.wait(timeout=10).exit_code == 0
        client.delete()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [e["log"] for e in read_log(log_path)] == ["fg\n"]


def test_killed_daemon_leaves_stdin_for_the_next_one(shim_env: ShimEnv) -> None:
    cid, bundle, state_dir, log_path = shim_env.prepare(["cat"])
    code = (
        "import os, signal, time; from sampan.shim.client import ShimClient;"
        f"c = ShimClient.spawn({cid!r}, {bundle!r}, {state_dir!r}, runtime={shim_env.runtime!r},"
        f" runtime_root={shim_env.runtime_root!r}, log_path={log_path!r}, stdin=True);"
        "s = c.attach(stdin=True); c.start(); s.sendall(b'before\\n'); time.sleep(0.2);"
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    daemon = subprocess.run([sys.executable, "-c", code], timeout=30, check=False)
    assert daemon.returncode == -9
    client = ShimClient.connect(state_dir)
    assert client.state().status == "running"
    sock = client.attach(stdin=True)
    sock.sendall(b"after\n")
    sock.shutdown(socket.SHUT_WR)
    assert demux(sock) == (b"after\n", b"")
    assert client.wait(timeout=10).exit_code == 0
    assert [e["log"] for e in read_log(log_path)] == ["before\n", "after\n"]
    sock.close()
    client.delete()


def test_pause_and_resume(shim_env: ShimEnv) -> None:
    client, cid, _ = shim_env.spawn(["sleep", "1000"])
    with pytest.raises(errdefs.Conflict):
        client.pause()  # not running yet
    client.start()
    client.pause()
    assert client.state().status == "paused"
    state = subprocess.run([shim_env.runtime, "--root", shim_env.runtime_root, "state", cid], capture_output=True,
                           check=True)
    assert json.loads(state.stdout)["status"] == "paused"
    with pytest.raises(errdefs.Conflict):
        client.delete()  # paused counts as running
    client.resume()
    assert client.state().status == "running"
    with pytest.raises(errdefs.Conflict):
        client.resume()
    client.kill(9)
    assert client.wait(timeout=10).exit_code == 137
    client.delete()


def test_concurrent_spawns_through_one_zygote(shim_env: ShimEnv) -> None:
    from concurrent.futures import ThreadPoolExecutor

    zygote = os.path.join(shim_env.root, "zygote.sock")
    shim_env.zygotes.append(zygote)
    prepared = [shim_env.prepare(["echo", str(i)]) for i in range(8)]

    def run(i: int) -> tuple[int, str]:
        cid, bundle, state_dir, log_path = prepared[i]
        client = shim_env.spawn_prepared(cid, bundle, state_dir, log_path, zygote=zygote)
        client.start()
        code = client.wait(timeout=30).exit_code
        client.delete()
        return code, read_log(log_path)[0]["log"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(8)))
    assert results == [(0, f"{i}\n") for i in range(8)]


def exec_process(shim_env: ShimEnv, args: list[str], terminal: bool = False) -> dict[str, object]:
    """An OCI process object for `exec`, like the daemon builds (based on runc's default spec)."""
    return {"terminal": terminal, "user": {"uid": 0, "gid": 0}, "args": args, "cwd": "/",
            "env": ["PATH=/bin", "TERM=xterm"], "noNewPrivileges": True}


def test_exec_streams_and_exit_code(shim_env: ShimEnv) -> None:
    client, _, log_path = shim_env.spawn(["sleep", "1000"])
    client.start()
    pid, sock = client.exec("e1", exec_process(shim_env, ["sh", "-c", "echo in exec; echo oops >&2; exit 5"]))
    assert pid > 0 and sock is not None
    assert demux(sock) == (b"in exec\n", b"oops\n")
    assert client.wait(exec_id="e1", timeout=10).exit_code == 5
    state = client.exec_state("e1")
    assert state.status == "stopped" and state.exit is not None and state.exit.exit_code == 5
    assert client.state().status == "running"  # the container goes on
    assert not os.path.exists(log_path) or os.path.getsize(log_path) == 0  # exec output is not logged
    with pytest.raises(errdefs.Conflict):
        client.exec("e1", exec_process(shim_env, ["true"]))
    with pytest.raises(errdefs.NotFound, match="No such exec instance: nope"):
        client.wait(exec_id="nope")
    with pytest.raises(errdefs.SampanError, match=r"no such file or directory|not found"):
        client.exec("bad", exec_process(shim_env, ["/no/such/binary"]))
    assert sorted(n for n in os.listdir(client.state_dir) if n.startswith(("exec-", "x"))) == []
    sock.close()
    client.kill(9)
    client.wait(timeout=10)
    with pytest.raises(errdefs.Conflict, match="is not running"):
        client.exec("e2", exec_process(shim_env, ["true"]))
    client.delete()


def test_exec_stdin_kill_and_detached(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["sleep", "1000"])
    client.start()
    _, sock = client.exec("cat", exec_process(shim_env, ["cat"]), stdin=True)
    assert sock is not None
    sock.sendall(b"through exec\n")
    sock.shutdown(socket.SHUT_WR)
    assert demux(sock) == (b"through exec\n", b"")
    assert client.wait(exec_id="cat", timeout=10).exit_code == 0
    sock.close()
    pid, nothing = client.exec("bg", exec_process(shim_env, ["sleep", "1000"]), attach=False)
    assert nothing is None and client.exec_state("bg").status == "running" and client.exec_state("bg").pid == pid
    client.kill("KILL", exec_id="bg")
    assert client.wait(exec_id="bg", timeout=10).exit_code == 137
    client.delete(force=True)


def test_exec_with_a_terminal(shim_env: ShimEnv) -> None:
    client, _, _ = shim_env.spawn(["sleep", "1000"])
    client.start()
    _, sock = client.exec("t", exec_process(shim_env, ["sh", "-c", "read x; stty size; echo got $x"], terminal=True),
                          stdin=True)
    assert sock is not None and client.exec_state("t").tty
    client.resize(33, 99, exec_id="t")
    sock.sendall(b"it\r")
    data = read_until(sock, b"got it")
    assert b"33 99" in data
    assert client.wait(exec_id="t", timeout=10).exit_code == 0
    sock.close()
    client.delete(force=True)
