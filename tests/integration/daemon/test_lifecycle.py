"""A real sampand process: start, answer, stop cleanly, guard its socket and pidfile."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from tests.integration.conftest import DaemonFactory
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(daemon_factory: DaemonFactory, signum: int) -> None:
    d = daemon_factory().start()
    assert os.path.exists(d.pidfile)
    with open(d.pidfile) as f:
        assert int(f.read()) == d.pid
    d.signal(signum)
    assert d.proc is not None
    assert d.proc.wait(10) == 0, d.log()
    assert not os.path.exists(d.socket)
    assert not os.path.exists(d.pidfile)


def test_socket_mode_is_0660(daemon: DaemonProcess) -> None:
    st = os.stat(daemon.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660


def test_stale_socket_is_replaced(daemon_factory: DaemonFactory) -> None:
    d = daemon_factory()
    os.makedirs(d.tmpdir, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(d.socket)
    stale.close()  # bound but nobody listens: what a SIGKILLed daemon leaves behind
    d.start()
    assert d.request("GET", "/_ping")[2] == b"OK"


def test_killed_daemon_restarts_on_its_socket(daemon_factory: DaemonFactory) -> None:
    d = daemon_factory().start()
    d.kill()
    assert os.path.exists(d.socket)
    d.start()
    assert d.request("GET", "/_ping")[0] == 200


def test_second_daemon_on_same_socket_is_refused(daemon_factory: DaemonFactory) -> None:
    first = daemon_factory().start()
    second = daemon_factory(socket_path=first.socket)
    proc = second.spawn()
    assert proc.wait(15) == 1
    assert "in use by another daemon" in second.log()
    assert first.request("GET", "/_ping")[0] == 200


def test_second_daemon_with_same_pidfile_is_refused(daemon_factory: DaemonFactory) -> None:
    first = daemon_factory().start()
    second = daemon_factory(extra_args=["--pidfile", first.pidfile])
    second.pidfile = first.pidfile
    proc = second.spawn()
    assert proc.wait(15) == 1
    assert "pid file found" in second.log()
    assert first.request("GET", "/_ping")[0] == 200


def test_config_error_exits_1_with_dockerd_wording(daemon_factory: DaemonFactory) -> None:
    d = daemon_factory(config={"bogus": 1})
    proc = d.spawn()
    assert proc.wait(15) == 1
    assert "the following directives don't match any configuration option: bogus" in d.log()


def test_version_flag_is_fast() -> None:
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "sampan.daemon.main", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("sampand version ")
    assert time.monotonic() - start < 2.0


def test_tcp_listener_when_asked(daemon_factory: DaemonFactory) -> None:
    from tests.support.registry import free_port

    port = free_port()
    d = daemon_factory(extra_args=["-H", f"tcp://127.0.0.1:{port}"]).start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"OK")
    assert d.request("GET", "/_ping")[0] == 200


def test_bad_host_exits_1_and_cleans_up(daemon_factory: DaemonFactory) -> None:
    d = daemon_factory(extra_args=["-H", "bogus://nowhere"])
    proc = d.spawn()
    assert proc.wait(15) == 1
    assert "invalid bind address (bogus://nowhere)" in d.log()
    assert not os.path.exists(d.socket)  # the first listener was taken down again
    assert not os.path.exists(d.pidfile)
