"""Listener set-up: socket modes, stale and live sockets, host parsing."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from sampan.errdefs import Conflict, InvalidArgument
from sampan.server.serve import bind_unix, parse_host, socket_is_live


def test_bind_unix_mode_and_stale_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "api.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    assert not socket_is_live(path)
    sock = bind_unix(path)
    try:
        st = os.stat(path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
        assert socket_is_live(path)
        assert sorted(os.listdir(tmp_path)) == ["api.sock"]  # no temp name left behind
    finally:
        sock.close()


def test_bind_unix_refuses_a_live_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "api.sock")
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(path)
    live.listen(1)
    try:
        with pytest.raises(Conflict, match="in use by another daemon"):
            bind_unix(path)
        assert os.path.exists(path)
    finally:
        live.close()


def test_bind_unix_creates_the_directory(tmp_path: Path) -> None:
    path = str(tmp_path / "run" / "sampan" / "api.sock")
    sock = bind_unix(path)
    sock.close()
    assert os.path.exists(path)


@pytest.mark.parametrize("host,expected", [
    ("unix:///run/sampan/sampand.sock", ("unix", "/run/sampan/sampand.sock")),
    ("tcp://127.0.0.1:2375", ("tcp", ("127.0.0.1", 2375))),
    ("tcp://127.0.0.1", ("tcp", ("127.0.0.1", 2375))),
    ("tcp://:2376", ("tcp", ("127.0.0.1", 2376))),
    ("unix://", ("unix", "/run/sampan/sampand.sock")),
])
def test_parse_host(host: str, expected: object) -> None:
    assert parse_host(host) == expected


@pytest.mark.parametrize("host", ["unix://relative.sock", "tcp://127.0.0.1:x", "tcp://1.2.3.4:5/path",
                                  "fd://", "http://x:1"])
def test_parse_host_errors(host: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid bind address"):
        parse_host(host)
