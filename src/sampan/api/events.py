"""What the event filters and the /events route read of an event: one protocol both layers share
(the daemon's `Event` dataclass satisfies it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class EventView(Protocol):
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
    @property
    def scope(self) -> str: ...

    def to_wire(self) -> dict[str, object]: ...
