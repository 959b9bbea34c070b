"""Run a blocking job that reports JSON progress messages, and stream them as they come.

The job runs in a thread of its own (pulls last minutes; they must not starve the shared
worker pool that short requests use) and calls `emit(msg)`; messages cross to the event loop
with `call_soon_threadsafe`. If the job fails before it emitted anything, the failure becomes
an ordinary error response (so `docker pull nonexistent` gets its 404); once the stream has
begun, the failure is the last line, as `{"errorDetail": ..., "error": ...}`. When the client
goes away, the next `emit` raises so the job stops early.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable

from sampan.api.progress import JSONMessage
from sampan.errdefs import Unavailable
from sampan.server.errors import error_message
from sampan.server.response import Response, StreamResponse

log = logging.getLogger(__name__)

Emit = Callable[[JSONMessage], None]
Job = Callable[[Emit], object]


class _Done:
    """Queue sentinel carrying the job's outcome."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def start_job(job: Job, loop: asyncio.AbstractEventLoop,
              queue: asyncio.Queue[JSONMessage | _Done], gone: threading.Event) -> None:
    def emit(msg: JSONMessage) -> None:
        if gone.is_set():
            raise Unavailable("client disconnected: operation cancelled")
        loop.call_soon_threadsafe(queue.put_nowait, msg)

    def run() -> None:
        error: BaseException | None = None
        try:
            job(emit)
        except Exception as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(queue.put_nowait, _Done(error))
        except RuntimeError:  # the loop is gone: the daemon stopped while we worked
            log.debug("job finished after the event loop closed: %s", error)

    threading.Thread(target=run, name="sampand-job", daemon=True).start()


async def progress_stream(job: Job) -> Response | StreamResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[JSONMessage | _Done] = asyncio.Queue()
    gone = threading.Event()
    start_job(job, loop, queue, gone)
    try:
        first = await queue.get()
    except asyncio.CancelledError:
        gone.set()
        raise
    if isinstance(first, _Done):
        if first.error is not None:
            raise first.error
        return Response(200, b"", "application/json")

    async def chunks() -> AsyncIterator[bytes]:
        item: JSONMessage | _Done = first
        try:
            while True:
                batch = []
                while isinstance(item, JSONMessage):
                    batch.append(item.encode())
                    if queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    yield b"".join(batch)
                if isinstance(item, _Done):
                    break
                item = await queue.get()
            if item.error is not None:
                log.info("streamed job failed after output began: %s", item.error)
                yield JSONMessage(error=error_message(item.error)).encode()
        finally:
            if not isinstance(item, _Done):
                gone.set()

    return StreamResponse(chunks(), content_type="application/json")
