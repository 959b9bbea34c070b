"""The exec endpoints over raw HTTP and through docker-py: errors with Docker's wording and
codes, inspect, a second start, and `exec_run` in its stream/socket/demux forms."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import quote

import docker
import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
MISSING = "f" * 64


@pytest.fixture
def running(daemon: DaemonProcess, exec_ref: str) -> Iterator[str]:
    status, created = daemon.json("POST", "/containers/create", {"Image": exec_ref})
    assert status == 201, created
    cid = created["Id"]
    assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
    yield cid
    daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)


def _message(body: object) -> str:
    assert isinstance(body, dict)
    return str(body.get("message"))


def test_errors(daemon: DaemonProcess, running: str) -> None:
    for method, path in (("GET", f"/exec/{MISSING}/json"), ("POST", f"/exec/{MISSING}/start"),
                         ("POST", f"/exec/{MISSING}/resize?h=10&w=10")):
        status, body = daemon.json(method, path, {} if method == "POST" else None)
        assert (status, _message(body)) == (404, f"No such exec instance: {MISSING}")
    status, body = daemon.json("POST", f"/containers/{running}/exec", {"Cmd": []})
    assert (status, _message(body)) == (400, "No exec command specified")
    status, body = daemon.json("POST", "/containers/nope/exec", {"Cmd": ["true"]})
    assert status == 404 and "No such container: nope" in _message(body)
    # a created, never started container
    status, created = daemon.json("POST", "/containers/create",
                                  {"Image": daemon.json("GET", f"/containers/{running}/json")[1]["Config"]["Image"]})
    status, body = daemon.json("POST", f"/containers/{created['Id']}/exec", {"Cmd": ["true"]})
    assert (status, _message(body)) == (409, f"Container {created['Id']} is not running")


def test_detached_start_inspect_and_second_start(daemon: DaemonProcess, running: str) -> None:
    status, created = daemon.json("POST", f"/containers/{running}/exec",
                                  {"Cmd": ["sh", "-c", "exit 5"], "AttachStdout": True, "User": "app"})
    assert status == 201
    eid = created["Id"]
    assert len(eid) == 64
    status, info = daemon.json("GET", f"/exec/{eid}/json")
    assert status == 200 and info == {
        "ID": eid, "Running": False, "ExitCode": None,
        "ProcessConfig": {"tty": False, "entrypoint": "sh", "arguments": ["-c", "exit 5"], "privileged": False,
                          "user": "app"},
        "OpenStdin": False, "OpenStderr": False, "OpenStdout": True, "CanRemove": False, "ContainerID": running,
        "DetachKeys": "", "Pid": 0}
    assert daemon.json("GET", f"/containers/{running}/json")[1]["ExecIDs"] == [eid]
    status, _, body = daemon.request("POST", f"/exec/{eid}/start", json.dumps({"Detach": True}).encode(),
                                     {"Content-Type": "application/json"})
    assert (status, body) == (200, b"")
    deadline = time.monotonic() + 10
    while daemon.json("GET", f"/exec/{eid}/json")[1]["ExitCode"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    info = daemon.json("GET", f"/exec/{eid}/json")[1]
    assert info["ExitCode"] == 5 and info["Running"] is False and info["Pid"] > 0
    status, body = daemon.json("POST", f"/exec/{eid}/start", {"Detach": True})
    assert (status, _message(body)) == (409, f"Error: Exec command {eid} has already run")
    status, created = daemon.json("POST", f"/containers/{running}/exec", {"Cmd": ["sleep", "30"]})
    eid = created["Id"]
    assert daemon.json("POST", f"/exec/{eid}/start", {"Detach": True})[0] == 200
    status, body = daemon.json("POST", f"/exec/{eid}/start", {"Detach": True})
    assert (status, _message(body)) == (409, f"Error: Exec command {eid} is already running")


def test_docker_py_exec_run(daemon: DaemonProcess, running: str) -> None:
    client = docker.DockerClient(base_url=daemon.docker_host, version="1.44")
    try:
        container = client.containers.get(running)
        result = container.exec_run(["sh", "-c", "echo out; echo err >&2; exit 2"])
        assert result.exit_code == 2 and result.output == b"out\nerr\n"
        result = container.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
        assert result.exit_code == 0 and result.output == (b"out\n", b"err\n")
        result = container.exec_run("sh -c 'id -u; pwd; echo $V'", user="1000", workdir="/srv",
                                    environment={"V": "env-value"})
        assert result.output == b"1000\n/srv\nenv-value\n"
        result = container.exec_run(["sh", "-c", "for i in 1 2 3; do echo $i; done"], stream=True)
        assert result.exit_code is None and b"".join(result.output) == b"1\n2\n3\n"
        result = container.exec_run(["sh", "-c", "test -t 1 && echo tty"], tty=True)
        assert result.output == b"tty\r\n"
        result = container.exec_run(["cat"], stdin=True, socket=True)
        sock = result.output._sock
        sock.sendall(b"via socket\n")
        sock.shutdown(1)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        sock.close()
        assert data == b"\x01\x00\x00\x00\x00\x00\x00\x0bvia socket\n"
        result = container.exec_run(["sleep", "30"], detach=True)
        assert result.output == ""  # docker-py decodes the empty answer of a detached start
        assert any("sleep 30" in " ".join(p) for p in container.top()["Processes"])
    finally:
        client.close()


def test_exec_events(daemon: DaemonProcess, running: str) -> None:
    since = time.time()
    status, created = daemon.json("POST", f"/containers/{running}/exec", {"Cmd": ["sh", "-c", "exit 7"]})
    eid = created["Id"]
    assert daemon.json("POST", f"/exec/{eid}/start", {"Detach": True})[0] == 200
    deadline = time.monotonic() + 10
    while daemon.json("GET", f"/exec/{eid}/json")[1]["ExitCode"] is None and time.monotonic() < deadline:
        time.sleep(0.02)
    filters = quote(json.dumps({"container": [running], "type": ["container"]}))
    status, _, body = daemon.request("GET", f"/events?since={since:.9f}&until={time.time() + 0.001:.9f}"
                                     f"&filters={filters}")
    assert status == 200
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    mine = [e for e in events if e["Actor"]["Attributes"].get("execID") == eid]
    assert [e["Action"] for e in mine] == ["exec_create: sh -c exit 7", "exec_start: sh -c exit 7", "exec_die"]
    assert mine[2]["Actor"]["Attributes"]["exitCode"] == "7" and mine[2]["Actor"]["ID"] == running
    assert mine[0]["Actor"]["Attributes"]["image"] and mine[0]["Actor"]["Attributes"]["name"]


def test_detach_keys_end_the_stream_not_the_process(daemon: DaemonProcess, running: str) -> None:
    client = docker.APIClient(base_url=daemon.docker_host, version="1.44")
    try:
        for keys, typed in ((None, b"\x10\x11"), ("ctrl-x,a", b"\x18a")):
            eid = client.exec_create(running, ["sh", "-c", "read x; echo never"], stdin=True, detach_keys=keys)["Id"]
            sock = client.exec_start(eid, socket=True)._sock
            sock.settimeout(10)
            sock.sendall(b"\x10x" + typed)  # a broken sequence first: passed on, then the real one
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            sock.close()
            assert b"never" not in data
            info = client.exec_inspect(eid)
            assert info["Running"] is True and info["ExitCode"] is None
    finally:
        client.close()


def _hijack_start(daemon: DaemonProcess, eid: str, body: dict[str, object]) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(daemon.socket)
    data = json.dumps(body).encode()
    sock.sendall(f"POST /v1.44/exec/{eid}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    return data


def test_console_size_and_resize_reach_the_pty(daemon: DaemonProcess, running: str) -> None:
    body = {"Cmd": ["sh", "-c", "stty size; read x; stty size"], "Tty": True, "AttachStdin": True,
            "AttachStdout": True}
    eid = daemon.json("POST", f"/containers/{running}/exec", body)[1]["Id"]
    with _hijack_start(daemon, eid, {"Tty": True, "ConsoleSize": [11, 33]}) as sock:
        assert b"11 33\r\n" in _read_until(sock, b"11 33\r\n")
        status, _, out = daemon.request("POST", f"/exec/{eid}/resize?h=22&w=44")
        assert status == 200, out
        sock.sendall(b"go\r")
        assert b"22 44\r\n" in _read_until(sock, b"22 44\r\n")
    eid2 = daemon.json("POST", f"/containers/{running}/exec", {"Cmd": ["true"]})[1]["Id"]
    status, out = daemon.json("POST", f"/exec/{eid2}/resize?h=1&w=1")
    assert status == 409, out  # not started
