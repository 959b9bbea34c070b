"""The streaming container routes: attach (a hijacked connection bridged to the shim's attach
socket) and logs (the json-file log, followed until the container stops)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, BinaryIO, Protocol

from sampan.api.detachkeys import DEFAULT, DetachScanner, parse_detach_keys
from sampan.errdefs import InvalidArgument
from sampan.server.request import Request
from sampan.server.response import MULTIPLEXED_STREAM, RAW_STREAM, HijackResponse, Reply, StreamResponse
from sampan.server.router import Router

log = logging.getLogger(__name__)

AttachCallback = Callable[[socket.socket | None, BaseException | None], None]
FOLLOW_POLL = 0.1


class LogStream(Protocol):
    tty: bool

    def history(self) -> Iterator[list[Any]]: ...

    def read_new(self) -> list[Any]: ...

    def encode(self, entries: list[Any]) -> bytes: ...

    def running(self) -> bool: ...

    def close(self) -> None: ...


class StreamBackend(Protocol):
    def attach(self, ref: str, *, stdin: bool, stdout: bool, stderr: bool, callback: AttachCallback) -> bool: ...

    def open_logs(self, ref: str, *, stdout: bool, stderr: bool, since: str, until: str, timestamps: bool,
                  tail: str) -> LogStream: ...


def _stream_type(req: Request, tty: bool) -> str:
    return RAW_STREAM if tty or req.version_before("1.42") else MULTIPLEXED_STREAM


Delivery = tuple[socket.socket | None, BaseException | None]


def attach_delivery() -> tuple[asyncio.Future[Delivery], AttachCallback]:
    """A future for the attach socket, and the callback (from any thread) that settles it; a
    socket delivered once the future is settled is closed."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[Delivery] = loop.create_future()

    def callback(sock: socket.socket | None, exc: BaseException | None) -> None:
        def settle() -> None:
            if ready.done():
                if sock is not None:
                    sock.close()
            else:
                ready.set_result((sock, exc))
        loop.call_soon_threadsafe(settle)

    return ready, callback


def detach_sequence(req: Request, tty: bool, stdin: bool) -> bytes:
    """The keys that end an attach (dockerd scans a tty's input only; ctrl-p,ctrl-q by default)."""
    spec = req.query_value("detachKeys") or DEFAULT
    try:
        keys = parse_detach_keys(spec)
    except ValueError:
        raise InvalidArgument(f"Invalid detach keys ({spec}) provided") from None
    return keys if tty and stdin else b""


async def _bridge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sock: socket.socket,
                  stdin: bool, detach: bytes = b"") -> None:
    """Client bytes to the shim (half-closing after the client's EOF), shim output to the client;
    the detach sequence in the input ends it all, leaving the container's stdin open."""
    shim_reader, shim_writer = await asyncio.open_connection(sock=sock)
    scanner = DetachScanner(detach)

    async def upstream() -> bool:
        try:
            while data := await reader.read(65536):
                if stdin:
                    out, hit = scanner.feed(data)
                    shim_writer.write(out)
                    await shim_writer.drain()
                    if hit:
                        return True
            if stdin and shim_writer.can_write_eof():
                shim_writer.write_eof()
        except (ConnectionError, OSError):
            pass
        return False

    async def downstream() -> None:
        while data := await shim_reader.read(65536):
            writer.write(data)
            await writer.drain()

    up, down = asyncio.create_task(upstream()), asyncio.create_task(downstream())
    try:
        done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        if up in done and not up.result():  # input ended: the output goes on
            await down
    finally:
        for task in (up, down):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        shim_writer.close()


class _QueueWriter(io.RawIOBase):
    """A file a worker thread writes to; each write waits for room in the loop's queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[bytes | BaseException | None],
                 gone: threading.Event) -> None:
        self.loop, self.queue, self.gone = loop, queue, gone

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.gone.is_set():
            raise BrokenPipeError("the client went away")
        chunk = bytes(data)
        if chunk:
            asyncio.run_coroutine_threadsafe(self.queue.put(chunk), self.loop).result()
        return len(chunk)


async def thread_stream(produce: Callable[[BinaryIO], None]) -> AsyncIterator[bytes]:
    """Bytes a blocking producer writes in a thread, streamed with back-pressure (8 chunks)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(8)
    gone = threading.Event()

    def run() -> None:
        end: BaseException | None = None
        try:
            out = io.BufferedWriter(_QueueWriter(loop, queue, gone), 1 << 16)
            produce(out)
            out.flush()
        except BaseException as exc:
            end = exc
        if not gone.is_set():
            asyncio.run_coroutine_threadsafe(queue.put(end), loop).result()

    task = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        await task
    finally:
        if not task.done():
            gone.set()
            while not queue.empty():  # unblock a put in flight
                queue.get_nowait()


def close_delivered(fut: asyncio.Future[Delivery]) -> None:
    """A socket delivered to an attach that will not use it (or has finished with it) is closed."""
    sock, _ = fut.result()
    if sock is not None:
        sock.close()


async def _replay(backend: StreamBackend, ref: str, writer: asyncio.StreamWriter, stdout: bool, stderr: bool) -> None:
    stream = await asyncio.to_thread(backend.open_logs, ref, stdout=stdout, stderr=stderr, since="", until="",
                                     timestamps=False, tail="all")
    try:
        batches = stream.history()
        while (entries := await asyncio.to_thread(next, batches, None)) is not None:
            if entries:
                writer.write(stream.encode(entries))
                await writer.drain()
    finally:
        stream.close()


def add_routes(router: Router, backend: StreamBackend) -> None:
    async def attach(req: Request) -> Reply:
        stdin, stdout, stderr = req.query_bool("stdin"), req.query_bool("stdout"), req.query_bool("stderr")
        ready, callback = attach_delivery()
        detach_sequence(req, True, True)  # bad keys are a 400 before anything is attached
        tty = await asyncio.to_thread(backend.attach, req.params["id"], stdin=stdin, stdout=stdout,
                                      stderr=stderr, callback=callback)
        detach = detach_sequence(req, tty, stdin)
        replay = req.query_bool("logs") and (stdout or stderr)

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if replay:  # `logs=1`: what the container wrote before, from its log file
                await _replay(backend, req.params["id"], writer, stdout, stderr)
            if not req.query_bool("stream"):  # false unless asked, as dockerd
                ready.add_done_callback(close_delivered)
                return
            sock, exc = await ready
            if exc is not None:
                log.info("attach to %s failed: %s", req.params["id"], exc)
            if sock is None:
                return
            await _bridge(reader, writer, sock, stdin, detach)

        return HijackResponse(handler, content_type=_stream_type(req, tty))

    async def logs(req: Request) -> Reply:
        stdout, stderr = req.query_bool("stdout"), req.query_bool("stderr")
        if not (stdout or stderr):
            raise InvalidArgument("Bad parameters: you must choose at least one stream")
        follow = req.query_bool("follow")
        stream = await asyncio.to_thread(
            backend.open_logs, req.params["id"], stdout=stdout, stderr=stderr, since=req.query_value("since"),
            until=req.query_value("until"), timestamps=req.query_bool("timestamps"),
            tail=req.query_value("tail", "all"))

        async def chunks() -> AsyncIterator[bytes]:
            try:
                batches = stream.history()
                while (entries := await asyncio.to_thread(next, batches, None)) is not None:
                    if entries:
                        yield stream.encode(entries)
                while follow:
                    running = stream.running()
                    await asyncio.sleep(FOLLOW_POLL)
                    new = await asyncio.to_thread(stream.read_new)
                    if new:
                        yield stream.encode(new)
                    elif not running:
                        break
            finally:
                stream.close()

        return StreamResponse(chunks(), content_type=_stream_type(req, stream.tty), endless=follow)

    router.post("/containers/{id}/attach", attach)
    router.get("/containers/{id}/logs", logs)
