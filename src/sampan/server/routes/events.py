"""GET /events: the daemon's events as a stream of JSON objects, one per line.

As dockerd: with `since` (or `until`) the kept events of that window are replayed first; an
`until` in the past ends the response after them, one in the future ends it then, and with
neither the stream lasts until the client hangs up. A streaming client holds no thread: the
bus calls a callback that hands each event to the event loop (`call_soon_threadsafe`) and
the response waits on that queue and on the connection (to notice a client that went away).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Protocol

from sampan.api.events import EventView as Event
from sampan.api.timestamps import TimestampError, event_time
from sampan.errdefs import InvalidArgument
from sampan.server.request import Request
from sampan.server.response import Reply, StreamResponse
from sampan.server.router import Router

log = logging.getLogger(__name__)

# Events a client has not read yet; past that it misses events (dockerd drops them too).
QUEUE_LIMIT = 4096


class EventFilter(Protocol):
    def include(self, ev: Event) -> bool: ...


class EventsBackend(Protocol):
    """What the events route needs of the daemon's event bus."""

    def subscribe(self, callback: Callable[[Event], None]) -> Sequence[Event]: ...

    def unsubscribe(self, callback: Callable[[Event], None]) -> None: ...

    def history(self) -> Sequence[Event]: ...

    def event_filter(self, filters: Mapping[str, Sequence[str]] | None) -> EventFilter: ...


def encode(ev: Event) -> bytes:
    return json.dumps(ev.to_wire(), separators=(",", ":")).encode() + b"\n"


def _time_param(req: Request, name: str) -> int | None:
    try:
        return event_time(req.query_value(name))
    except TimestampError as exc:
        raise InvalidArgument(str(exc)) from None


def in_window(ev: Event, since: int | None, until: int | None) -> bool:
    return (since is None or ev.time_nano >= since) and (until is None or ev.time_nano <= until)


class _Subscription:
    """A bus callback feeding a loop-side queue; dropped by `close` or when the stream is collected."""

    def __init__(self, backend: EventsBackend, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        queue, dropped = self.queue, [0]

        def offer(ev: Event) -> None:  # on the loop
            if queue.qsize() >= QUEUE_LIMIT:
                dropped[0] += 1
                if dropped[0] == 1:
                    log.warning("an events client is not reading: dropping events")
                return
            queue.put_nowait(ev)

        def callback(ev: Event) -> None:  # on the publisher's thread
            loop.call_soon_threadsafe(offer, ev)

        self.callback = callback
        self.kept = list(backend.subscribe(callback))
        self._backend = backend
        self._finalizer: weakref.finalize[..., object] | None = None

    def tie_to(self, owner: object) -> None:
        """Unsubscribe when `owner` (the response body) is collected without having run."""
        self._finalizer = weakref.finalize(owner, self._backend.unsubscribe, self.callback)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        else:
            self._backend.unsubscribe(self.callback)


async def _live(req: Request, sub: _Subscription, flt: EventFilter, until: int | None) -> AsyncIterator[bytes]:
    """Events as they come, until `until` or until the client goes away."""
    gone = asyncio.ensure_future(req.body.peer_closed())
    try:
        while True:
            timeout = None if until is None else (until - time.time_ns()) / 1e9
            if timeout is not None and timeout <= 0:
                return
            get = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait({get, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                if gone in done:
                    raise ConnectionResetError("the events client went away")
                continue
            batch = [get.result()]
            while not sub.queue.empty():
                batch.append(sub.queue.get_nowait())
            out = b"".join(encode(ev) for ev in batch
                           if (until is None or ev.time_nano <= until) and flt.include(ev))
            if out:
                yield out
    finally:
        gone.cancel()


def add_routes(router: Router, events: EventsBackend) -> None:
    """Register the events route."""

    async def get_events(req: Request) -> Reply:
        since = _time_param(req, "since")
        until = _time_param(req, "until")
        if until is not None and since is not None and until < since:
            raise InvalidArgument(f"`since` time ({req.query_value('since')}) cannot be after "
                                  f"`until` time ({req.query_value('until')})")
        flt = events.event_filter(req.query_filters())
        replay_window = since is not None or until is not None
        if until is not None and until < time.time_ns():  # only past events: no subscription
            past = [ev for ev in events.history() if in_window(ev, since, until) and flt.include(ev)]

            async def replay() -> AsyncIterator[bytes]:
                if past:
                    yield b"".join(encode(ev) for ev in past)

            return StreamResponse(replay(), content_type="application/json")

        sub = _Subscription(events, asyncio.get_running_loop())
        kept = [ev for ev in sub.kept if in_window(ev, since, until) and flt.include(ev)] if replay_window else []

        async def stream() -> AsyncIterator[bytes]:
            try:
                if kept:
                    yield b"".join(encode(ev) for ev in kept)
                async for chunk in _live(req, sub, flt, until):
                    yield chunk
            finally:
                sub.close()

        body = stream()
        sub.tie_to(body)
        return StreamResponse(body, content_type="application/json", endless=True)

    router.get("/events", get_events)
