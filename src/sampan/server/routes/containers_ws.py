"""GET /containers/{id}/attach/ws: a container's attach stream over a WebSocket.

As dockerd: streams are never multiplexed (each message is the payload of one write of
stdout or stderr), messages are binary from API 1.28 on and text before, API versions before
1.42 attach all three streams whatever the query says, and client messages are the
container's stdin when `stdin=1`. A missing container is an ordinary 404 before the upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from sampan.api import stdcopy
from sampan.api.detachkeys import DetachScanner
from sampan.server.request import Request
from sampan.server.response import RAW_STREAM, HijackResponse, Reply
from sampan.server.router import Router
from sampan.server.routes.containers_streams import (
    StreamBackend,
    attach_delivery,
    close_delivered,
    detach_sequence,
)
from sampan.server.websocket import WebSocket, accept_key, check_handshake

log = logging.getLogger(__name__)


class _Unframer:
    """Container output as the payloads clients see: raw with a tty, stdcopy frames opened without."""

    def __init__(self, tty: bool) -> None:
        self.demux = None if tty else stdcopy.Demuxer()

    def payloads(self, data: bytes) -> list[bytes]:
        if self.demux is None:
            return [data]
        return [p for stream, p in self.demux.feed(data) if stream in (stdcopy.STDOUT, stdcopy.STDERR) and p]


async def _replay(backend: StreamBackend, ref: str, ws: WebSocket, stdout: bool, stderr: bool,
                  binary: bool) -> None:
    """`logs=1`: what the container wrote before, from its log file."""
    stream = await asyncio.to_thread(backend.open_logs, ref, stdout=stdout, stderr=stderr, since="", until="",
                                     timestamps=False, tail="all")
    try:
        unframer = _Unframer(stream.tty)
        batches = stream.history()
        while (entries := await asyncio.to_thread(next, batches, None)) is not None:
            for payload in unframer.payloads(stream.encode(entries)) if entries else []:
                await ws.send(payload, binary)
    finally:
        stream.close()


async def _bridge(ws: WebSocket, sock: socket.socket, stdin: bool, tty: bool, binary: bool,
                  detach: bytes) -> None:
    """Shim output to the client as messages; client messages to the container's stdin (until
    the detach sequence, which leaves the container's stdin open)."""
    shim_reader, shim_writer = await asyncio.open_connection(sock=sock)
    scanner = DetachScanner(detach)

    async def upstream() -> None:
        while (message := await ws.receive()) is not None:
            if stdin and message:
                out, hit = scanner.feed(message)
                shim_writer.write(out)
                await shim_writer.drain()
                if hit:
                    return
        if stdin and shim_writer.can_write_eof():
            shim_writer.write_eof()

    async def downstream() -> None:
        unframer = _Unframer(tty)
        while data := await shim_reader.read(65536):
            for payload in unframer.payloads(data):
                await ws.send(payload, binary)

    up, down = asyncio.create_task(upstream()), asyncio.create_task(downstream())
    try:
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (up, down):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await task
        shim_writer.close()
        await ws.close()


def add_routes(router: Router, backend: StreamBackend) -> None:
    async def attach_ws(req: Request) -> Reply:
        key = check_handshake(req.headers)
        ref = req.params["id"]
        if req.version_before("1.42"):
            stdin = stdout = stderr = True
        else:
            stdin, stdout, stderr = req.query_bool("stdin"), req.query_bool("stdout"), req.query_bool("stderr")
        binary = not req.version_before("1.28")
        ready, callback = attach_delivery()
        detach_sequence(req, True, True)  # bad keys are a 400 before anything is attached
        tty = await asyncio.to_thread(backend.attach, ref, stdin=stdin, stdout=stdout, stderr=stderr,
                                      callback=callback)
        detach = detach_sequence(req, tty, stdin)

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            ws = WebSocket(reader, writer)
            try:
                if req.query_bool("logs") and (stdout or stderr):
                    await _replay(backend, ref, ws, stdout, stderr, binary)
                if not req.query_bool("stream"):
                    return
                sock, exc = await ready
                if exc is not None:
                    log.info("websocket attach to %s failed: %s", ref, exc)
                if sock is not None:
                    await _bridge(ws, sock, stdin, tty, binary, detach)
            finally:
                ready.add_done_callback(close_delivered)
                await ws.close()

        return HijackResponse(handler, content_type=RAW_STREAM, headers={"Sec-WebSocket-Accept": accept_key(key)},
                              reason="Switching Protocols")

    router.get("/containers/{id}/attach/ws", attach_ws)

