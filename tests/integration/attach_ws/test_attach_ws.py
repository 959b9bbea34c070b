"""attach/ws against a real container: stdin through client messages, output as binary
messages (unmultiplexed), logs replay, a tty, and a 404 before the upgrade."""

from __future__ import annotations

import socket

import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
websocket = pytest.importorskip("websocket")


def _connect(daemon: DaemonProcess, target: str) -> object:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(daemon.socket)
    return websocket.create_connection(f"ws://localhost{target}", socket=sock, timeout=10)


def _create(daemon: DaemonProcess, body: dict[str, object]) -> str:
    status, data = daemon.json("POST", "/containers/create", body)
    assert status == 201, data
    return str(data["Id"])


def _recv_until(conn: object, want: bytes) -> bytes:
    got = b""
    while want not in got:
        got += conn.recv()  # type: ignore[attr-defined]
    return got


def test_stdin_and_stdout_through_messages(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = _create(daemon, {"Image": busybox_ref, "Cmd": ["sh", "-c", "echo ready; exec cat"], "OpenStdin": True,
                           "StdinOnce": False, "AttachStdin": True})
    try:
        conn = _connect(daemon, f"/v1.44/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1")
        try:
            assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
            assert _recv_until(conn, b"ready\n") == b"ready\n"  # no 8-byte stdcopy header
            conn.send_binary(b"through the socket\n")  # type: ignore[attr-defined]
            assert _recv_until(conn, b"socket\n") == b"through the socket\n"
        finally:
            conn.close()  # type: ignore[attr-defined]
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)


def test_logs_of_an_exited_container(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = _create(daemon, {"Image": busybox_ref, "Cmd": ["sh", "-c", "echo out; echo err >&2"]})
    try:
        assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
        daemon.json("POST", f"/containers/{cid}/wait")
        conn = _connect(daemon, f"/containers/{cid}/attach/ws?logs=1&stdout=1&stderr=1")
        got = b""
        try:
            while True:
                opcode, data = conn.recv_data()  # type: ignore[attr-defined]
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                got += data
        finally:
            conn.close()  # type: ignore[attr-defined]
        assert sorted(got.splitlines()) == [b"err", b"out"]
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)


def test_tty_container(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = _create(daemon, {"Image": busybox_ref, "Cmd": ["sh", "-c", "read x; echo got-$x"], "Tty": True,
                           "OpenStdin": True, "StdinOnce": False})
    try:
        assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
        conn = _connect(daemon, f"/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1")
        try:
            conn.send_binary(b"abc\r")  # type: ignore[attr-defined]
            assert b"got-abc" in _recv_until(conn, b"got-abc")
        finally:
            conn.close()  # type: ignore[attr-defined]
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)


def test_missing_container_is_404(daemon: DaemonProcess) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        _connect(daemon, "/containers/nope/attach/ws?stream=1")
    assert info.value.status_code == 404


def test_detach_leaves_the_container_running(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = _create(daemon, {"Image": busybox_ref, "Cmd": ["sh"], "Tty": True, "OpenStdin": True, "StdinOnce": True})
    try:
        assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
        conn = _connect(daemon, f"/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1")
        try:
            conn.send_binary(b"echo one-$((0+1))\r\x10\x11")  # type: ignore[attr-defined]
            got = b""
            while True:
                opcode, data = conn.recv_data()  # type: ignore[attr-defined]
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                got += data
        finally:
            conn.close()  # type: ignore[attr-defined]
        assert daemon.json("GET", f"/containers/{cid}/json")[1]["State"]["Running"]  # stdin stays open
        conn = _connect(daemon, f"/containers/{cid}/attach/ws?stream=1&stdin=1&stdout=1")
        try:
            conn.send_binary(b"echo two-$((1+1))\r")  # type: ignore[attr-defined]
            assert b"two-2" in _recv_until(conn, b"two-2")
        finally:
            conn.close()  # type: ignore[attr-defined]
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)
