"""Exec routes: POST /containers/{id}/exec, POST /exec/{id}/start|resize, GET /exec/{id}/json.

`start` hijacks the connection like attach (101 UPGRADED, stdcopy frames without a tty) unless
`Detach` is set, which answers 200 with no body. As dockerd, an error starting the process is
written into the hijacked stream (the client reads the exit code from the exec's inspect), and
the stream ends only after the exit is recorded, so that inspect answers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any, Protocol

from sampan.api.detachkeys import DetachScanner
from sampan.errdefs import InvalidArgument
from sampan.server.request import Request
from sampan.server.response import MULTIPLEXED_STREAM, RAW_STREAM, HijackResponse, Reply, Response
from sampan.server.router import Router

log = logging.getLogger(__name__)

EXIT_RECORD_WAIT = 10.0  # seconds a finished stream waits for the exit to be recorded


class ExecRecordView(Protocol):
    tty: bool
    open_stdin: bool
    detach_sequence: bytes


class ExecBackend(Protocol):
    def create(self, ref: str, body: dict[str, Any]) -> str: ...

    def get(self, exec_id: str) -> ExecRecordView: ...

    def start(self, exec_id: str, *, detach: bool = False,
              console_size: tuple[int, int] | None = None) -> socket.socket | None: ...

    def wait(self, exec_id: str, timeout: float | None = None) -> int | None: ...

    def detached(self, exec_id: str) -> None: ...

    def resize(self, exec_id: str, height: int, width: int) -> None: ...

    def inspect(self, exec_id: str) -> dict[str, Any]: ...


class ExecHost(Protocol):
    """The container backend, which carries the exec service."""

    @property
    def execs(self) -> ExecBackend: ...


def _stdout_frame(data: bytes) -> bytes:
    return bytes([1, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


ENDED, DETACHED, CLIENT_GONE = "ended", "detached", "client-gone"


async def bridge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sock: socket.socket, *,
                 stdin: bool, detach_keys: bytes) -> str:
    """Client <-> the shim's exec stream; how it stopped: ENDED, DETACHED or CLIENT_GONE.

    The client's end of input half-closes the exec's stdin; a detach (or a client that went
    away) closes the shim connection altogether, which leaves the process alone.
    """
    shim_reader, shim_writer = await asyncio.open_connection(sock=sock)
    scanner = DetachScanner(detach_keys if stdin else b"")
    detached = asyncio.Event()

    async def upstream() -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if not stdin:
                    continue
                out, hit = scanner.feed(data)
                if out:
                    shim_writer.write(out)
                    await shim_writer.drain()
                if hit:
                    detached.set()
                    return
            if stdin and shim_writer.can_write_eof():
                shim_writer.write_eof()

    async def downstream() -> str:
        try:
            while data := await shim_reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return CLIENT_GONE
        return ENDED

    down = asyncio.create_task(downstream())
    tasks = [asyncio.create_task(upstream()), down, asyncio.create_task(detached.wait())]
    try:
        await asyncio.wait(tasks[1:], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        shim_writer.close()
    if detached.is_set():
        return DETACHED
    return down.result() if down.done() and not down.cancelled() else CLIENT_GONE


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
        body = {str(k).lower(): v for k, v in body.items()}  # Go matches JSON fields case-insensitively
        ex = await asyncio.to_thread(host.execs.get, exec_id)  # 404 before any hijack
        size = _console_size(body.get("consolesize"))
        if body.get("detach"):
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
            if sock is None:
                return
            outcome = await bridge(reader, writer, sock, stdin=ex.open_stdin, detach_keys=ex.detach_sequence)
            if outcome == DETACHED:
                await asyncio.to_thread(host.execs.detached, exec_id)  # the process runs on
            elif outcome == ENDED:  # the process exited: let inspect tell its code at once
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
