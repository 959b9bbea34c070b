"""GET /events: the daemon's events as a stream of JSON objects (to be filled in)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from sampan.server.router import Router


class Event(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def attributes(self) -> Mapping[str, str]: ...
    @property
    def time_nano(self) -> int: ...

    def to_wire(self) -> dict[str, object]: ...


class EventsBackend(Protocol):
    """What the events route needs of the daemon's event bus."""

    def subscribe(self, callback: Callable[[Event], None]) -> Sequence[Event]: ...

    def unsubscribe(self, callback: Callable[[Event], None]) -> None: ...


def add_routes(router: Router, events: EventsBackend) -> None:
    """Register the events route."""
