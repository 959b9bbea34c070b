"""The daemon's event log: what `GET /events` streams (container, image, network, volume, daemon).

Services publish from any thread; each subscriber gets the events kept so far (the last
`limit`, as dockerd keeps 256) plus every later one, with nothing lost or doubled between
the two because both happen under one lock. Subscribers are callbacks so that an HTTP
stream can hand events to its event loop without holding a thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_LIMIT = 256

# Event types as the Engine API names them.
CONTAINER = "container"
IMAGE = "image"
NETWORK = "network"
VOLUME = "volume"
DAEMON = "daemon"


@dataclass(frozen=True)
class Event:
    type: str
    action: str
    actor_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    time_nano: int = 0
    scope: str = "local"

    def to_wire(self) -> dict[str, object]:
        """The JSON object of one line of /events, with the legacy fields Docker still sends."""
        wire: dict[str, object] = {}
        if self.type in (CONTAINER, IMAGE):
            wire["status"] = self.action
            wire["id"] = self.actor_id
            if self.type == CONTAINER and "image" in self.attributes:
                wire["from"] = self.attributes["image"]
        wire.update({
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "scope": self.scope,
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        })
        return wire


Subscriber = Callable[[Event], None]


class EventBus:
    """Keeps the last `limit` events and fans each new one out to the subscribers."""

    def __init__(self, limit: int = DEFAULT_LIMIT, clock: Callable[[], int] = time.time_ns) -> None:
        self._lock = threading.RLock()  # callbacks run under it, so every subscriber sees one order
        self._kept: deque[Event] = deque(maxlen=limit)
        self._subscribers: list[Subscriber] = []
        self._clock = clock

    def publish(self, type: str, action: str, actor_id: str, attributes: Mapping[str, str] | None = None) -> Event:
        """Record one event; a subscriber that raises is dropped, never the publisher.

        Callbacks must be quick and must not block (hand the event to a queue or a loop).
        """
        with self._lock:
            event = Event(type, action, actor_id, dict(attributes or {}), self._clock())
            self._kept.append(event)
            for callback in list(self._subscribers):
                try:
                    callback(event)
                except Exception:
                    self._subscribers.remove(callback)
        return event

    def subscribe(self, callback: Subscriber) -> list[Event]:
        """Start calling `callback` for new events; returns the events kept so far."""
        with self._lock:
            self._subscribers.append(callback)
            return list(self._kept)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def history(self) -> list[Event]:
        with self._lock:
            return list(self._kept)
