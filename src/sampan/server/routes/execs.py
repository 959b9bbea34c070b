"""Exec routes: POST /containers/{id}/exec, POST /exec/{id}/start|resize, GET /exec/{id}/json.

`start` hijacks the connection like attach (101 UPGRADED, stdcopy frames without a tty) unless
`Detach` is set, which answers 200 with no body. As dockerd, an error starting the process is
written into the hijacked stream (the client reads the exit code from the exec's inspect), and
the stream ends only after the exit is recorded, so that inspect answers at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Protocol

from sampan.errdefs import InvalidArgument
from sampan.server.request import Request
from sampan.server.response import MULTIPLEXED_STREAM, RAW_STREAM, HijackResponse, Reply, Response
from sampan.server.router import Router
from sampan.server.routes.containers_streams import _bridge

log = logging.getLogger(__name__)

EXIT_RECORD_WAIT = 10.0  # seconds a finished stream waits for the exit to be recorded


class ExecRecordView(Protocol):
    tty: bool
    open_stdin: bool


class ExecBackend(Protocol):
    def create(self, ref: str, body: dict[str, Any]) -> str: ...

    def get(self, exec_id: str) -> ExecRecordView: ...

    def start(self, exec_id: str, *, detach: bool = False,
              console_size: tuple[int, int] | None = None) -> socket.socket | None: ...

    def wait(self, exec_id: str, timeout: float | None = None) -> int | None: ...

    def resize(self, exec_id: str, height: int, width: int) -> None: ...

    def inspect(self, exec_id: str) -> dict[str, Any]: ...


class ExecHost(Protocol):
    """The container backend, which carries the exec service."""

    @property
    def execs(self) -> ExecBackend: ...


def _stdout_frame(data: bytes) -> bytes:
    return bytes([1, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def _console_size(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) and v >= 0 for v in value):
        raise InvalidArgument("ConsoleSize must be an array of two non-negative integers")
    return (value[0], value[1])


def add_routes(router: Router, containers: Any) -> None:
    """Register the exec routes (`containers` is the container backend; its `execs` does the work)."""
    host: ExecHost = containers

    async def create(req: Request) -> Reply:
        body = await req.json()
        if body is not None and not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: expected an object")
        exec_id = await asyncio.to_thread(host.execs.create, req.params["id"], body or {})
        return Response.json({"Id": exec_id}, status=201)

    async def start(req: Request) -> Reply:
        exec_id = req.params["id"]
        body = await req.json() or {}
        if not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: expected an object")
        ex = await asyncio.to_thread(host.execs.get, exec_id)  # 404 before any hijack
        size = _console_size(body.get("ConsoleSize"))
        if body.get("Detach"):
            await asyncio.to_thread(host.execs.start, exec_id, detach=True, console_size=size)
            return Response(200)
        tty = ex.tty

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                sock = await asyncio.to_thread(host.execs.start, exec_id, console_size=size)
            except Exception as exc:
                log.info("exec %s: start failed: %s", exec_id[:12], exc)
                message = (str(exc) + "\r\n").encode()
                writer.write(message if tty else _stdout_frame(message))
                await writer.drain()
                return
            if sock is not None:
                await _bridge(reader, writer, sock, ex.open_stdin)
            await asyncio.to_thread(host.execs.wait, exec_id, EXIT_RECORD_WAIT)

        # Framing follows the tty; only the content type announced depends on the API version.
        multiplexed = not tty and not req.version_before("1.42")
        return HijackResponse(handler, content_type=MULTIPLEXED_STREAM if multiplexed else RAW_STREAM)

    async def resize(req: Request) -> Reply:
        await asyncio.to_thread(host.execs.resize, req.params["id"], req.query_int("h"), req.query_int("w"))
        return Response(200, b"", "text/plain")

    async def inspect(req: Request) -> Reply:
        return Response.json(await asyncio.to_thread(host.execs.inspect, req.params["id"]))

    router.post("/containers/{id}/exec", create)
    router.post("/exec/{id}/start", start)
    router.post("/exec/{id}/resize", resize)
    router.get("/exec/{id}/json", inspect)
