"""Run a blocking job that reports JSON progress messages, and stream them as they come.

The job runs in a worker thread and calls `emit(msg)`; messages cross to the event loop with
`call_soon_threadsafe`. If the job fails before it emitted anything, the failure becomes an
ordinary error response (so `docker pull nonexistent` gets its 404); once the stream has begun,
the failure is the last line, as `{"errorDetail": ..., "error": ...}`. When the client goes
away, the next `emit` raises so the job stops early.
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

_DONE = object()


async def progress_stream(job: Job) -> Response | StreamResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    gone = threading.Event()

    def emit(msg: JSONMessage) -> None:
        if gone.is_set():
            raise Unavailable("client disconnected: operation cancelled")
        loop.call_soon_threadsafe(queue.put_nowait, msg)

    task = asyncio.ensure_future(asyncio.to_thread(job, emit))
    task.add_done_callback(lambda _t: queue.put_nowait(_DONE))

    first = await queue.get()
    if first is _DONE:
        exc = task.exception()
        if exc is not None:
            raise exc
        return Response(200, b"", "application/json")

    async def chunks() -> AsyncIterator[bytes]:
        item = first
        try:
            while True:
                batch = []
                while item is not _DONE:
                    assert isinstance(item, JSONMessage)
                    batch.append(item.encode())
                    if queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    yield b"".join(batch)
                if item is _DONE:
                    break
                item = await queue.get()
            exc = task.exception()
            if exc is not None:
                log.info("streamed job failed after output began: %s", exc)
                yield JSONMessage(error=error_message(exc)).encode()
        finally:
            if not task.done():
                gone.set()

    return StreamResponse(chunks(), content_type="application/json")
