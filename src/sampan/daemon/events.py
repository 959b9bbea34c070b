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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sampan.daemon.event_filters import EventFilter

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

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    @staticmethod
    def event_filter(filters: Mapping[str, Sequence[str]] | None) -> EventFilter:
        """The matcher for a client's `filters` (InvalidArgument for a key dockerd refuses)."""
        return EventFilter(filters)


# --- what services attach to their events ---------------------------------------------------

class ContainerLike(Protocol):
    """The parts of a container record an event names (daemon.containers.record)."""

    id: str
    name: str
    image_name: str
    config: dict[str, Any]


def container_attributes(rec: ContainerLike, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Docker's container event attributes: the labels, then `image` and `name`, then extras."""
    labels = rec.config.get("Labels") or {}
    attrs = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    if rec.image_name:
        attrs["image"] = rec.image_name
    attrs["name"] = rec.name.lstrip("/")
    attrs.update(extra or {})
    return attrs


def container_event(bus: EventBus | None, rec: ContainerLike, action: str, **extra: str) -> None:
    """Publish a container event (`extra` are action attributes: exitCode, signal, oldName...)."""
    if bus is not None:
        bus.publish(CONTAINER, action, rec.id, container_attributes(rec, extra))


class ExitedContainer(ContainerLike, Protocol):
    state: Any  # daemon.containers.record.State


def exit_events(bus: EventBus | None, rec: ExitedContainer) -> None:
    """`oom` when the kernel's OOM killer struck, then `die` with exitCode and execDuration (seconds)."""
    from sampan.daemon.containers.views import parse_time

    state = rec.state
    if state.oom_killed:
        container_event(bus, rec, "oom")
    started = parse_time(state.started_at)
    ran = max(0, int(parse_time(state.finished_at) - started)) if started else 0
    container_event(bus, rec, "die", exitCode=str(state.exit_code), execDuration=str(ran))


def image_attributes(labels: Mapping[str, str] | None, name: str) -> dict[str, str]:
    """Docker's image event attributes: the image's labels (while it exists) and `name`."""
    attrs = {str(k): str(v) for k, v in (labels or {}).items()}
    if name:
        attrs["name"] = name
    return attrs


def prune_event(bus: EventBus | None, event_type: str, reclaimed: int) -> None:
    """The `prune` event of container or image prune: no actor, the bytes reclaimed."""
    if bus is not None:
        bus.publish(event_type, "prune", "", {"reclaimed": str(reclaimed)})
