"""Engine API wire types of the container routes that have a fixed small shape.

Inspect and list answers are built as dicts by the daemon (`daemon/containers/views.py`)
because they carry the client's Config and HostConfig through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CreateResponse:
    id: str
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"Id": self.id, "Warnings": list(self.warnings)}


@dataclass(frozen=True)
class WaitResponse:
    status_code: int
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"StatusCode": self.status_code, "Error": {"Message": self.error} if self.error else None}


@dataclass(frozen=True)
class PruneReport:
    deleted: list[str]
    space_reclaimed: int

    def to_json(self) -> dict[str, Any]:
        return {"ContainersDeleted": self.deleted or None, "SpaceReclaimed": self.space_reclaimed}
