"""The small HTTP/1.1 transport on raw scripted answers: framing, keep-alive and broken peers."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Iterator

import pytest

from sampan.client.errors import ConnectionFailed, ProtocolError
from sampan.client.transport import Connection, parse_host


class ScriptedServer:
    """Accepts connections one by one; for each request sends the next canned answer (bytes).

    An answer of None closes the connection without replying; an answer ending in CLOSE is
    sent and then the connection is closed.
    """

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.dir = tempfile.mkdtemp(prefix="sampan-raw-")
        self.path = os.path.join(self.dir, "s.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as f:
                while self.answers:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = f.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    self.requests.append(head)
                    answer = self.answers.pop(0)
                    if answer is None:
                        break
                    closing = answer.endswith(CLOSE)
                    conn.sendall(answer.removesuffix(CLOSE))
                    if closing or b"Connection: close" in answer:
                        break

    def close(self) -> None:
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[ScriptedServer]:
    s = ScriptedServer(request.param)
    yield s
    s.close()


def conn_for(server: ScriptedServer) -> Connection:
    return Connection(parse_host(f"unix://{server.path}"), timeout=5)


CLOSE = b"<close>"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("server", [[OK, OK, OK]], indirect=True)
def test_keep_alive_reuses_one_connection(server: ScriptedServer) -> None:
    c = conn_for(server)
    assert [c.request("GET", "/x").read() for _ in range(3)] == [b"ok"] * 3
    c.close()
    assert len(server.requests) == 3
    assert server.requests[0].startswith(b"GET /x HTTP/1.1\r\nHost: api.moby.localhost\r\n")


CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\n{\"a\":\r\n3\r\n1}\n\r\n4\r\n{\"b\"\r\n3\r\n:2}\r\n0\r\nTrailer: x\r\n\r\n")


@pytest.mark.parametrize("server", [[CHUNKED, OK]], indirect=True)
def test_chunked_lines_and_trailers(server: ScriptedServer) -> None:
    c = conn_for(server)
    assert list(c.request("POST", "/s", b"{}").iter_lines()) == [b'{"a":1}', b'{"b":2}']
    assert c.request("GET", "/next").read() == b"ok"
    assert b"Content-Length: 2\r\n" in server.requests[0]


UNTIL_CLOSE = b"HTTP/1.0 200 OK\r\n\r\nall of it"


@pytest.mark.parametrize("server", [[UNTIL_CLOSE]], indirect=True)
def test_body_until_close(server: ScriptedServer) -> None:
    assert conn_for(server).request("GET", "/").read() == b"all of it"


NO_BODY = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("server", [[NO_BODY, b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", OK]],
                         indirect=True)
def test_no_body_and_head(server: ScriptedServer) -> None:
    c = conn_for(server)
    assert c.request("DELETE", "/x").read() == b""
    r = c.request("HEAD", "/_ping")
    assert r.headers["content-length"] == "9" and r.read() == b""
    assert c.request("GET", "/").read() == b"ok"


@pytest.mark.parametrize("server", [[OK, None, OK]], indirect=True)
def test_stale_keep_alive_connection_is_retried_once(server: ScriptedServer) -> None:
    c = conn_for(server)
    assert c.request("GET", "/1").read() == b"ok"
    assert c.request("GET", "/2").read() == b"ok"  # first try hits a closed connection


@pytest.mark.parametrize("server", [[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" + CLOSE]],
                         indirect=True)
def test_truncated_body(server: ScriptedServer) -> None:
    resp = conn_for(server).request("GET", "/")
    with pytest.raises(ProtocolError, match="closed before the end"):
        resp.read()


@pytest.mark.parametrize("server", [[b"garbage\r\n\r\n" + CLOSE]], indirect=True)
def test_malformed_status_line(server: ScriptedServer) -> None:
    with pytest.raises(ProtocolError, match="malformed HTTP status line"):
        conn_for(server).request("GET", "/")


def test_connect_failure_names_the_host(tmp_path: os.PathLike[str]) -> None:
    url = f"unix://{os.fspath(tmp_path)}/none.sock"
    with pytest.raises(ConnectionFailed, match="Is the docker daemon running"):
        Connection(parse_host(url)).request("GET", "/_ping")


def _upgrade_server(path: str, status_line: bytes) -> threading.Thread:
    """Answer one upgrade request, send a greeting, then echo stdin back upper-cased until EOF."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        listener.close()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
            assert b"Upgrade: tcp" in head and b"Connection: Upgrade" in head
            conn.sendall(status_line + b"Content-Type: application/vnd.docker.raw-stream\r\n"
                         b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ")
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                rest += chunk
            conn.sendall(rest.upper())

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("status_line", [b"HTTP/1.1 101 UPGRADED\r\n", b"HTTP/1.1 200 OK\r\n"])
def test_hijack_gives_a_raw_two_way_stream(tmp_path: os.PathLike[str], status_line: bytes) -> None:
    from sampan.client import APIClient

    path = os.path.join(os.fspath(tmp_path), "h.sock")
    t = _upgrade_server(path, status_line)
    client = APIClient(f"unix://{path}", version="1.44")
    stream = client.hijack("POST", "/containers/x/attach", {"stream": True, "stdin": True})
    assert stream.response.status in (101, 200)
    stream.write(b"ping")
    stream.close_write()
    got = b""
    while True:
        data = stream.read1()
        if not data:
            break
        got += data
    stream.close()
    client.close()
    t.join(5)
    assert got == b"hello PING"


def test_hijack_refused_is_an_error(tmp_path: os.PathLike[str]) -> None:
    from sampan import errdefs
    from sampan.client import APIClient

    body = b'{"message":"No such container: x"}'
    s = ScriptedServer([b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)])
    try:
        with pytest.raises(errdefs.NotFound, match="No such container: x"):
            APIClient(f"unix://{s.path}", version="1.44").hijack("POST", "/containers/x/attach")
    finally:
        s.close()
