"""POST /containers/{id}/attach: the detach sequence (ctrl-p,ctrl-q unless `detachKeys`) ends a
tty attach; without a tty the keys are ordinary input, as dockerd."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sampan.server.router import Router
from sampan.server.routes import containers_streams
from tests.unit.attach_ws.test_attach_ws_route import FakeShim
from tests.unit.server.harness import RawClient, ServerThread


def _serve(tmp_path: object, tty: bool) -> tuple[ServerThread, FakeShim]:
    shim = FakeShim(tty=tty)
    router = Router()
    containers_streams.add_routes(router, shim)  # type: ignore[arg-type]
    return ServerThread(router, f"{tmp_path}/a.sock").start(), shim


@pytest.fixture(params=[True, False], ids=["tty", "no-tty"])
def server(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[tuple[ServerThread, FakeShim]]:
    st, shim = _serve(tmp_path, request.param)
    try:
        yield st, shim
    finally:
        st.stop()
        for t in shim.threads:
            t.join(5)


def _attach(c: RawClient, query: str) -> bytes:
    c.send(f"POST /v1.44/containers/c1/attach?{query} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
           "Upgrade: tcp\r\n\r\n".encode())
    return c.read_until(b"\r\n\r\n")


def test_default_detach_keys(server: tuple[ServerThread, FakeShim]) -> None:
    st, shim = server
    c = st.connect()
    assert _attach(c, "stream=1&stdin=1&stdout=1").startswith(b"HTTP/1.1 101 ")
    c.send(b"x\x10\x11")
    if shim.tty:
        assert c.read_to_eof().startswith(b"hello\n")  # the stream ends
        shim.threads[0].join(5)
        assert shim.received == b"x"  # the keys were held back
    else:
        assert c.read_exact(8 + 6 + 8 + 8)[8:14] == b"hello\n"
        c.sock.close()


def test_bad_detach_keys_are_refused(tmp_path: object) -> None:
    st, shim = _serve(tmp_path, True)
    try:
        c = st.connect()
        assert _attach(c, "stream=1&stdin=1&detachKeys=nope").startswith(b"HTTP/1.1 400 ")
        assert shim.calls == []  # nothing was attached
    finally:
        st.stop()


def test_stream_is_false_unless_asked(tmp_path: object) -> None:
    st, shim = _serve(tmp_path, False)
    try:
        c = st.connect()
        assert _attach(c, "stdout=1&stderr=1&logs=1").startswith(b"HTTP/1.1 101 ")
        assert c.read_to_eof() == b"\x01\x00\x00\x00\x00\x00\x00\x08old out\n\x02\x00\x00\x00\x00\x00\x00\x08old err\n"
    finally:
        st.stop()
        for t in shim.threads:
            t.join(5)
