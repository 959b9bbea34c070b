"""Docker's JSON progress messages (the stream of `POST /images/create` and friends).

The daemon emits them, the HTTP edge writes one JSON object per line, and the CLI renders
them as progress bars or plain lines. One type, one codec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_HEADER_PREFIXES = ("Pulling from ",)


@dataclass
class JSONMessage:
    status: str = ""
    id: str = ""
    current: int | None = None
    total: int | None = None
    progress: str = ""
    error: str = ""
    aux: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return {"errorDetail": {"message": self.error}, "error": self.error}
        out: dict[str, Any] = {}
        if self.status:
            out["status"] = self.status
        if self.current is not None or self.total is not None:
            detail: dict[str, Any] = {}
            if self.current is not None:
                detail["current"] = self.current
            if self.total is not None:
                detail["total"] = self.total
            out["progressDetail"] = detail
            out["progress"] = self.progress or progress_bar(self.current or 0, self.total or 0)
        elif self.status and self.id and not self.status.startswith(_HEADER_PREFIXES):
            # Docker sends per-layer updates with an empty progressDetail, but not the
            # "<tag>: Pulling from <repo>" header; the CLI renders both the same.
            out["progressDetail"] = {}
        if self.id:
            out["id"] = self.id
        if self.aux is not None:
            out["aux"] = self.aux
        return out

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":")).encode() + b"\r\n"

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> JSONMessage:
        detail = d.get("progressDetail") or {}
        err = d.get("error") or (d.get("errorDetail") or {}).get("message") or ""
        return cls(
            status=str(d.get("status", "")),
            id=str(d.get("id", "")),
            current=detail.get("current"),
            total=detail.get("total"),
            progress=str(d.get("progress", "")),
            error=str(err),
            aux=d.get("aux"),
        )


def human_size(n: float) -> str:
    """Decimal sizes as Docker's progress bars print them (kB, MB, GB)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.4g}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000.0
    return f"{n}B"


def progress_bar(current: int, total: int, width: int = 50) -> str:
    """`[=====>      ]  1.2MB/3.4MB`, the string Docker puts in `progress`."""
    if total <= 0:
        return human_size(current)
    # Docker draws `width` cells of "=" for the done part, then always a ">" head.
    filled = min(width, int(current / total * 100) * width // 100)
    bar = "=" * filled + ">" + " " * (width - filled)
    return f"[{bar}] {human_size(current):>8}/{human_size(total)}"
