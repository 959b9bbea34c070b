"""The HTTP/1.1 layer over a real unix socket: framing, keep-alive, streaming, hijack."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from sampan.server.request import Request
from sampan.server.response import HijackResponse, Reply, Response, StreamResponse
from sampan.server.router import Router
from tests.unit.server.harness import RawClient, ServerThread, get


def build_router() -> Router:
    r = Router()

    async def hello(req: Request) -> Reply:
        return Response.text("hello")

    async def echo(req: Request) -> Reply:
        data = await req.body.read_all()
        return Response.json({"len": len(data), "body": data.decode(), "q": req.query})

    async def ignore_body(req: Request) -> Reply:
        return Response.empty(204)

    async def stream(req: Request) -> Reply:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield json.dumps({"n": i}).encode() + b"\r\n"
                await asyncio.sleep(0)
        return StreamResponse(chunks())

    async def broken_stream(req: Request) -> Reply:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"partial"
            raise RuntimeError("mid-stream failure")
        return StreamResponse(chunks())

    async def attach(req: Request) -> Reply:
        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"hi:")
            while data := await reader.read(1024):
                writer.write(data.upper())
                await writer.drain()
                if b"\n" in data:
                    break
        return HijackResponse(pump)

    r.get("/hello", hello)
    r.head("/hello", hello)
    r.post("/echo", echo)
    r.post("/ignore", ignore_body)
    r.get("/stream", stream)
    r.get("/broken", broken_stream)
    r.post("/attach", attach)
    return r


@pytest.fixture
def server(tmp_path: object) -> Iterator[ServerThread]:
    path = os.path.join(str(tmp_path), "api.sock")
    st = ServerThread(build_router(), path).start()
    try:
        yield st
    finally:
        st.stop()


@pytest.fixture
def client(server: ServerThread) -> Iterator[RawClient]:
    c = server.connect()
    try:
        yield c
    finally:
        c.close()


def test_common_headers(client: RawClient) -> None:
    client.send(get("/hello"))
    status, headers, body = client.response()
    assert (status, body) == (200, b"hello")
    assert headers["api-version"] == "1.44"
    assert headers["docker-experimental"] == "false"
    assert headers["ostype"] == "linux"
    assert headers["server"].startswith("sampan/") and headers["server"].endswith("(linux)")
    assert headers["content-length"] == "5"


def test_keep_alive_and_pipelining(client: RawClient) -> None:
    client.send(get("/hello"))
    assert client.response()[2] == b"hello"
    client.send(get("/hello") + get("/nope") + get("/hello"))
    assert client.response()[2] == b"hello"
    status, _, body = client.response()
    assert (status, json.loads(body)) == (404, {"message": "page not found"})
    assert client.response()[2] == b"hello"


def test_connection_close(client: RawClient) -> None:
    client.send(get("/hello", "Connection: close\r\n"))
    _status, headers, _ = client.response()
    assert headers["connection"] == "close"
    assert client.closed()


def test_http10_closes_by_default(client: RawClient) -> None:
    client.send(b"GET /hello HTTP/1.0\r\n\r\n")
    assert client.response()[2] == b"hello"
    assert client.closed()


def test_content_length_body(client: RawClient) -> None:
    client.send(b"POST /echo?a=1&a=2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde" + get("/hello"))
    _, _, body = client.response()
    assert json.loads(body) == {"len": 5, "body": "abcde", "q": {"a": ["1", "2"]}}
    assert client.response()[2] == b"hello"


def test_chunked_body(client: RawClient) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n" + get("/hello"))
    assert json.loads(client.response()[2])["body"] == "abcdefg"
    assert client.response()[2] == b"hello"


def test_unread_body_is_drained(client: RawClient) -> None:
    client.send(b"POST /ignore HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz" + get("/hello"))
    assert client.response()[0] == 204
    assert client.response()[2] == b"hello"


def test_expect_continue(client: RawClient) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    assert client.read_until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    client.send(b"ok")
    assert json.loads(client.response()[2])["body"] == "ok"


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET /hello HTTP/2.0\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nno-colon-here\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /hello HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
])
def test_bad_requests_get_400_and_close(client: RawClient, raw: bytes) -> None:
    client.send(raw)
    status, headers, _ = client.response()
    assert status == 400
    assert headers["connection"] == "close"
    assert client.closed()


def test_head_has_no_body(client: RawClient) -> None:
    client.send(b"HEAD /hello HTTP/1.1\r\n\r\n" + get("/hello"))
    status, headers, _body = client.response(head_only=True)
    assert status == 200 and headers["content-length"] == "5"
    assert client.response()[2] == b"hello"


def test_chunked_stream(client: RawClient) -> None:
    client.send(get("/stream") + get("/hello"))
    _status, headers, body = client.response()
    assert headers["transfer-encoding"] == "chunked"
    assert headers["content-type"] == "application/json"
    assert [json.loads(line) for line in body.split(b"\r\n") if line] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert client.response()[2] == b"hello"


def test_stream_failure_cuts_the_connection(client: RawClient) -> None:
    client.send(get("/broken"))
    client.read_until(b"\r\n\r\n")
    rest = client.read_to_eof()
    assert b"partial" in rest and not rest.endswith(b"0\r\n\r\n")


def test_hijack_with_upgrade(client: RawClient) -> None:
    client.send(b"POST /attach HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                b"Content-Length: 0\r\n\r\n")
    head = client.read_until(b"\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 101 UPGRADED\r\n")
    assert "Connection: Upgrade\r\n" in head and "Upgrade: tcp\r\n" in head
    assert "Content-Type: application/vnd.docker.raw-stream\r\n" in head
    assert client.read_exact(3) == b"hi:"
    client.send(b"abc\n")
    assert client.read_exact(4) == b"ABC\n"
    assert client.closed()


def test_hijack_without_upgrade(client: RawClient) -> None:
    client.send(b"POST /attach HTTP/1.1\r\nContent-Length: 0\r\n\r\nxy\n")
    head = client.read_until(b"\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 200 OK\r\n")
    assert "Content-Type: application/vnd.docker.raw-stream\r\n" in head
    assert client.read_exact(6) == b"hi:XY\n"


def test_stop_lets_inflight_request_finish(tmp_path: object) -> None:
    started = asyncio.Event()
    release: list[asyncio.Event] = []
    r = Router()

    async def slow(req: Request) -> Reply:
        ev = asyncio.Event()
        release.append(ev)
        started.set()
        await asyncio.wait_for(ev.wait(), 5)
        return Response.text("done")

    r.get("/slow", slow)
    path = os.path.join(str(tmp_path), "api.sock")
    st = ServerThread(r, path).start()
    idle = st.connect()
    busy = st.connect()
    try:
        busy.send(get("/slow"))
        st.run(asyncio.wait_for(started.wait(), 5))
        stopping = asyncio.run_coroutine_threadsafe(st.server.stop(grace=5.0), st.loop)
        assert idle.closed()
        assert not os.path.exists(path)
        st.loop.call_soon_threadsafe(release[0].set)
        status, headers, body = busy.response()
        assert (status, body) == (200, b"done") and headers["connection"] == "close"
        stopping.result(5)
    finally:
        idle.close()
        busy.close()
        st.loop.call_soon_threadsafe(st.loop.stop)


def test_head_too_large(client: RawClient) -> None:
    try:
        client.send(b"GET /hello HTTP/1.1\r\nX-Big: " + b"a" * (2 << 20) + b"\r\n\r\n")
    except BrokenPipeError:
        pass  # the server answered and hung up before reading it all
    status, _, body = client.response()
    assert status == 400 and b"too large" in body


def test_absolute_form_target(client: RawClient) -> None:
    client.send(b"GET http://docker/hello HTTP/1.1\r\n\r\n")
    assert client.response()[2] == b"hello"


def test_unknown_method_is_404(client: RawClient) -> None:
    client.send(b"BREW /hello HTTP/1.1\r\n\r\n" + get("/hello"))
    assert client.response()[0] == 404
    assert client.response()[2] == b"hello"


def test_json_body_content_type(tmp_path: object) -> None:
    r = Router()

    async def create(req: Request) -> Reply:
        return Response.json({"got": await req.json()})

    r.post("/create", create)
    st = ServerThread(r, os.path.join(str(tmp_path), "api.sock")).start()
    c = st.connect()
    try:
        body = b'{"Image":"busybox"}'
        for ctype, status in (("application/json", 200), ("application/json; charset=utf-8", 200),
                              ("", 200), ("text/plain", 400)):
            header = f"Content-Type: {ctype}\r\n" if ctype else ""
            c.send(f"POST /create HTTP/1.1\r\n{header}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            got_status, _, got = c.response()
            assert got_status == status, (ctype, got)
        assert json.loads(got)["message"] == (
            "unsupported Content-Type header (text/plain): must be 'application/json'")
        c.send(b"POST /create HTTP/1.1\r\nContent-Length: 5\r\n\r\n{nope")
        status, _, got = c.response()
        assert status == 400 and json.loads(got)["message"].startswith("invalid JSON")
    finally:
        c.close()
        st.stop()
