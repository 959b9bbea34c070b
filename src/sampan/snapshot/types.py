"""Snapshot data: mounts returned as data (the caller mounts them) and snapshot records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Mount:
    """One mount to perform, in `mount(8)` terms (type, source, -o options)."""

    type: str
    source: str
    options: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    parent: str | None
    kind: str  # "active" | "view" | "committed"
    created: float


class Snapshotter(Protocol):
    """What the image and container services need from a storage driver."""

    root: str
    driver_name: str
    #: an active snapshot's apply_dir does not hold its parent's files (overlay upper dirs),
    #: so it may be prepared without a parent and stacked with `commit_onto` later
    independent_layers: bool

    def prepare(self, key: str, parent: str | None) -> list[Mount]: ...

    def view(self, key: str, parent: str | None) -> list[Mount]: ...

    def mounts(self, key: str) -> list[Mount]: ...

    def commit(self, name: str, key: str) -> None: ...

    def commit_onto(self, name: str, key: str, parent: str | None) -> None: ...

    def copy_layer(self, key: str, source: str) -> None: ...

    def remove(self, key: str) -> None: ...

    def stat(self, key: str) -> SnapshotInfo: ...

    def exists(self, key: str) -> bool: ...

    def usage(self, key: str) -> int: ...

    def walk(self) -> Iterator[SnapshotInfo]: ...

    def apply_dir(self, key: str) -> tuple[str, str]: ...

    def close(self) -> None: ...
