"""Container routes: create, start, stop, kill, restart, wait, remove, list, inspect, resize, prune.

Attach and logs, which stream, live in containers_streams.py. Handlers parse the query the
way dockerd does and run the backend's blocking methods in worker threads; `wait` holds no
thread (the backend calls back when the condition is met).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO, Protocol

from sampan.errdefs import InvalidArgument, NotFound, SampanError, System
from sampan.server.request import Request
from sampan.server.response import Reply, Response, StreamResponse
from sampan.server.router import Router
from sampan.server.routes import containers_streams
from sampan.server.routes.containers_json import decode_create_body
from sampan.server.routes.containers_streams import thread_stream

WaitCallback = Callable[[int, str], None]
STATS_INTERVAL = 1.0
ZERO_TIME = "0001-01-01T00:00:00Z"  # `read` of a container that does not run


class ContainerBackend(containers_streams.StreamBackend, Protocol):
    def create(self, name: str, body: dict[str, Any], platform: str = "") -> Any: ...

    def start(self, ref: str) -> None: ...

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None: ...

    def kill(self, ref: str, signal: str = "SIGKILL") -> None: ...

    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None: ...

    def wait(self, ref: str, condition: str, callback: WaitCallback) -> None: ...

    def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None: ...

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]: ...

    def list_containers(self, *, all: bool = False, limit: int = -1, size: bool = False,
                        filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]: ...

    def resize(self, ref: str, height: int, width: int) -> None: ...

    def pause(self, ref: str) -> None: ...

    def rename(self, ref: str, new_name: str) -> None: ...

    def top(self, ref: str, ps_args: str = "") -> dict[str, Any]: ...

    def stats(self, ref: str) -> dict[str, Any]: ...

    def changes(self, ref: str) -> list[dict[str, Any]]: ...

    def export(self, ref: str, out: BinaryIO) -> None: ...

    def archive_stat(self, ref: str, path: str) -> dict[str, Any]: ...

    def archive_get(self, ref: str, path: str, out: BinaryIO) -> None: ...

    def archive_put(self, ref: str, path: str, stream: BinaryIO, *, no_overwrite_dir_non_dir: bool = False,
                    copy_uid_gid: bool = False) -> None: ...

    def unpause(self, ref: str) -> None: ...

    def prune(self, filters: dict[str, list[str]] | None = None) -> Any: ...


def _wire(value: Any) -> Any:
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else value


STAT_HEADER = "X-Docker-Container-Path-Stat"


def stat_header(info: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(info).encode()).decode()


def chain(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """`current` with the previous sample's CPU counters and time as precpu_stats/preread."""
    current["precpu_stats"], current["preread"] = previous["cpu_stats"], previous["read"]
    return current


def _atoi(req: Request, name: str, error: type[SampanError] = InvalidArgument) -> int:
    """An integer query value, refused with Go's strconv wording as dockerd does (a 400 where
    dockerd marks it invalid, a plain 500 where it passes strconv's error through)."""
    text = req.query_value(name)
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise error(f'strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


def _timeout(req: Request) -> int | None:
    return _atoi(req, "t", System) if req.query_value("t") else None


def add_routes(router: Router, backend: ContainerBackend) -> None:
    async def create(req: Request) -> Reply:
        req.check_json_content_type()
        body = decode_create_body(await req.body.read_all())
        result = await asyncio.to_thread(backend.create, req.query_value("name"), body, req.query_value("platform"))
        return Response.json(_wire(result), status=201)

    async def list_(req: Request) -> Reply:
        limit = _atoi(req, "limit", System) if req.query_value("limit") else -1
        if req.query_bool("latest"):
            limit = 1
        items = await asyncio.to_thread(
            backend.list_containers, all=req.query_bool("all"), limit=limit, size=req.query_bool("size"),
            filters=req.query_filters())
        return Response.json(items)

    async def inspect(req: Request) -> Reply:
        return Response.json(await asyncio.to_thread(backend.inspect, req.params["id"], req.query_bool("size")))

    async def start(req: Request) -> Reply:
        await asyncio.to_thread(backend.start, req.params["id"])
        return Response.empty()

    async def stop(req: Request) -> Reply:
        await asyncio.to_thread(backend.stop, req.params["id"], _timeout(req), req.query_value("signal") or None)
        return Response.empty()

    async def restart(req: Request) -> Reply:
        await asyncio.to_thread(backend.restart, req.params["id"], _timeout(req), req.query_value("signal") or None)
        return Response.empty()

    async def kill(req: Request) -> Reply:
        await asyncio.to_thread(backend.kill, req.params["id"], req.query_value("signal") or "SIGKILL")
        return Response.empty()

    async def wait(req: Request) -> Reply:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[int, str]] = loop.create_future()

        def callback(code: int, error: str) -> None:
            def settle() -> None:
                if not done.done():
                    done.set_result((code, error))
            loop.call_soon_threadsafe(settle)

        backend.wait(req.params["id"], req.query_value("condition"), callback)

        async def body() -> AsyncIterator[bytes]:
            code, error = await done
            yield json.dumps({"StatusCode": code, "Error": {"Message": error} if error else None}).encode() + b"\n"

        return StreamResponse(body(), content_type="application/json", endless=True)  # a wait may outlast us

    async def remove(req: Request) -> Reply:
        if req.query_bool("link"):  # legacy links: a container's own name is never a removable link
            await asyncio.to_thread(backend.inspect, req.params["id"])
            raise System("Conflict, cannot remove the default link name of the container")
        await asyncio.to_thread(backend.remove, req.params["id"], force=req.query_bool("force"),
                                volumes=req.query_bool("v"))
        return Response.empty()

    async def resize(req: Request) -> Reply:
        height, width = _atoi(req, "h"), _atoi(req, "w")
        await asyncio.to_thread(backend.resize, req.params["id"], height, width)
        return Response(200, b"", "text/plain")

    async def top(req: Request) -> Reply:
        return Response.json(await asyncio.to_thread(backend.top, req.params["id"], req.query_value("ps_args")))

    async def stats(req: Request) -> Reply:
        """One object (`stream=0`; after a second sample unless `one-shot`) or one a second."""
        ref = req.params["id"]
        first = await asyncio.to_thread(backend.stats, ref)
        stopped = first["read"] == ZERO_TIME
        if not req.query_bool("stream", True):
            if stopped or req.query_bool("one-shot"):
                return Response.json(first)
            await asyncio.sleep(STATS_INTERVAL)  # two samples, so the client can compute CPU percent
            return Response.json(chain(await asyncio.to_thread(backend.stats, ref), first))

        async def samples() -> AsyncIterator[bytes]:
            loop = asyncio.get_running_loop()
            previous, due = first, loop.time()
            yield json.dumps(first).encode() + b"\n"
            while True:
                due += STATS_INTERVAL
                await asyncio.sleep(max(0.0, due - loop.time()))
                try:
                    current = chain(await asyncio.to_thread(backend.stats, ref), previous)
                except NotFound:
                    return  # removed: the stream ends, as dockerd's
                yield json.dumps(current).encode() + b"\n"
                previous = current

        return StreamResponse(samples(), content_type="application/json", endless=True)

    async def changes(req: Request) -> Reply:
        return Response.json(await asyncio.to_thread(backend.changes, req.params["id"]))

    async def export(req: Request) -> Reply:
        ref = req.params["id"]
        await asyncio.to_thread(backend.inspect, ref)  # 404 before the stream starts
        return StreamResponse(thread_stream(lambda out: backend.export(ref, out)),
                              content_type="application/x-tar")

    def _archive_path(req: Request) -> str:
        path = req.query_value("path")
        if not path:
            raise InvalidArgument("bad parameter: path cannot be empty")
        return path

    async def archive_head(req: Request) -> Reply:
        info = await asyncio.to_thread(backend.archive_stat, req.params["id"], _archive_path(req))
        return Response(200, b"", "application/json", {STAT_HEADER: stat_header(info)})

    async def archive_get(req: Request) -> Reply:
        ref, path = req.params["id"], _archive_path(req)
        info = await asyncio.to_thread(backend.archive_stat, ref, path)
        return StreamResponse(thread_stream(lambda out: backend.archive_get(ref, path, out)),
                              content_type="application/x-tar", headers={STAT_HEADER: stat_header(info)})

    async def archive_put(req: Request) -> Reply:
        ref, path = req.params["id"], _archive_path(req)
        upload = req.body.blocking(asyncio.get_running_loop())  # streamed to the copy helper as it comes
        await asyncio.to_thread(backend.archive_put, ref, path, upload,  # type: ignore[arg-type]
                                no_overwrite_dir_non_dir=req.query_bool("noOverwriteDirNonDir"),
                                copy_uid_gid=req.query_bool("copyUIDGID"))
        return Response(200, b"", "text/plain")

    async def rename(req: Request) -> Reply:
        await asyncio.to_thread(backend.rename, req.params["id"], req.query_value("name"))
        return Response.empty()

    async def pause(req: Request) -> Reply:
        await asyncio.to_thread(backend.pause, req.params["id"])
        return Response.empty()

    async def unpause(req: Request) -> Reply:
        await asyncio.to_thread(backend.unpause, req.params["id"])
        return Response.empty()

    async def prune(req: Request) -> Reply:
        return Response.json(_wire(await asyncio.to_thread(backend.prune, req.query_filters())))

    router.post("/containers/create", create)
    router.get("/containers/json", list_)
    router.post("/containers/prune", prune)
    router.get("/containers/{id}/json", inspect)
    router.post("/containers/{id}/start", start)
    router.post("/containers/{id}/stop", stop)
    router.post("/containers/{id}/restart", restart)
    router.post("/containers/{id}/kill", kill)
    router.post("/containers/{id}/wait", wait)
    router.post("/containers/{id}/resize", resize)
    router.post("/containers/{id}/pause", pause)
    router.post("/containers/{id}/rename", rename)
    router.get("/containers/{id}/top", top)
    router.get("/containers/{id}/stats", stats)
    router.get("/containers/{id}/changes", changes)
    router.get("/containers/{id}/export", export)
    router.head("/containers/{id}/archive", archive_head)
    router.get("/containers/{id}/archive", archive_get)
    router.add("PUT", "/containers/{id}/archive", archive_put)
    router.post("/containers/{id}/unpause", unpause)
    containers_streams.add_routes(router, backend)
    router.delete("/containers/{id}", remove)
