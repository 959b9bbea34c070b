from __future__ import annotations

import asyncio
import json

import pytest

from sampan.errdefs import Conflict, InvalidArgument, NotFound
from sampan.server.request import Body, Request
from sampan.server.response import Reply, Response
from sampan.server.router import Router, check_version, compile_pattern


def make_request(method: str, target: str) -> Request:
    path, query = Request.parse_target(target)
    return Request(method, target, path, "HTTP/1.1", {}, Body(None), query)


def call(router: Router, method: str, target: str) -> tuple[Reply, Request]:
    req = make_request(method, target)
    return asyncio.run(router(req)), req


def body_of(reply: Reply) -> object:
    assert isinstance(reply, Response)
    return json.loads(reply.body)


@pytest.fixture
def router() -> Router:
    r = Router()

    async def echo(req: Request) -> Response:
        return Response.json({"params": req.params, "version": req.api_version})

    async def fail(req: Request) -> Response:
        kind = req.query_value("kind")
        if kind == "notfound":
            raise NotFound("No such image: x")
        if kind == "conflict":
            raise Conflict("conflict: unable to delete")
        raise RuntimeError("boom")

    r.get("/images/json", echo)
    r.get("/images/{name}/json", echo)
    r.delete("/images/{name}", echo)
    r.post("/images/{name}/tag", echo)
    r.get("/fail", fail)
    return r


@pytest.mark.parametrize("name", ["busybox", "busybox:latest", "127.0.0.1:5000/a/b:tag",
                                  "localhost:5000/x@sha256:" + "a" * 64, "json"])
def test_names_with_slashes_and_colons(router: Router, name: str) -> None:
    reply, _ = call(router, "GET", f"/v1.44/images/{name}/json")
    assert body_of(reply) == {"params": {"name": name}, "version": "1.44"}
    reply, _ = call(router, "DELETE", f"/images/{name}")
    assert body_of(reply)["params"] == {"name": name}  # type: ignore[index]
    reply, _ = call(router, "POST", f"/images/{name}/tag?repo=x")
    assert body_of(reply)["params"] == {"name": name}  # type: ignore[index]


def test_percent_encoded_name(router: Router) -> None:
    reply, _ = call(router, "GET", "/images/a%2Fb%3Atag/json")
    assert body_of(reply)["params"] == {"name": "a/b:tag"}  # type: ignore[index]


def test_list_route_wins_over_inspect(router: Router) -> None:
    reply, _ = call(router, "GET", "/images/json")
    assert body_of(reply)["params"] == {}  # type: ignore[index]


def test_version_is_recorded(router: Router) -> None:
    _reply, req = call(router, "GET", "/v1.30/images/json")
    assert req.api_version == "1.30"
    assert req.version_before("1.41") and not req.version_before("1.30")
    _reply, req = call(router, "GET", "/images/json")
    assert req.api_version == "1.44"


@pytest.mark.parametrize("version,message", [
    ("1.45", "client version 1.45 is too new. Maximum supported API version is 1.44"),
    ("2.0", "client version 2.0 is too new. Maximum supported API version is 1.44"),
    ("1.23", "client version 1.23 is too old. Minimum supported API version is 1.24, "
             "please upgrade your client to a newer version"),
    ("1", "client version 1 is too old. Minimum supported API version is 1.24, "
          "please upgrade your client to a newer version"),
])
def test_versions_out_of_range(router: Router, version: str, message: str) -> None:
    reply, _ = call(router, "GET", f"/v{version}/images/json")
    assert isinstance(reply, Response) and reply.status == 400
    assert body_of(reply) == {"message": message}


def test_versions_in_range() -> None:
    for v in ("1.24", "1.25", "1.40", "1.44", "1.44.0"):
        check_version(v)
    with pytest.raises(InvalidArgument):
        check_version("1.9")


@pytest.mark.parametrize("method,target", [
    ("GET", "/nope"), ("POST", "/images/json"), ("GET", "/v1.44"), ("PUT", "/images/x"),
    ("GET", "/vabc/images/json"),
])
def test_unknown_route_and_wrong_method_are_404(router: Router, method: str, target: str) -> None:
    reply, _ = call(router, method, target)
    assert isinstance(reply, Response) and reply.status == 404
    assert body_of(reply) == {"message": "page not found"}


@pytest.mark.parametrize("kind,status,message", [
    ("notfound", 404, "No such image: x"),
    ("conflict", 409, "conflict: unable to delete"),
    ("other", 500, "boom"),
])
def test_error_map(router: Router, kind: str, status: int, message: str) -> None:
    reply, _ = call(router, "GET", f"/fail?kind={kind}")
    assert isinstance(reply, Response)
    assert reply.status == status and reply.content_type == "application/json"
    assert body_of(reply) == {"message": message}


def test_compile_pattern() -> None:
    rx = compile_pattern("/images/{name}/json")
    m = rx.match("/images/a/b/json")
    assert m and m.group("name") == "a/b"
    m = rx.match("/images//json")
    assert m and m.group("name") == ""
    assert not rx.match("/images/json")
