"""Shaping stored images into the Engine API's summary, inspect and history answers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sampan.api.images import HistoryItem, ImageInspect, ImageSummary
from sampan.daemon.images.names import familiar
from sampan.oci.image import ImageConfig
from sampan.store.metadata import ImageRow

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")
ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339_nano(text: str) -> str:
    """Re-format a timestamp the way Go's RFC3339Nano prints it (trailing zeros dropped)."""
    m = _RFC3339.match(text.strip())
    if not m:
        return text
    base, frac, zone = m.group(1), (m.group(2) or "")[:9].rstrip("0"), m.group(3)
    return f"{base}{'.' + frac if frac else ''}{zone}"


def unix_seconds(text: str) -> int:
    m = _RFC3339.match(text.strip())
    if not m:
        return 0
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return int(datetime.fromisoformat(m.group(1) + zone).timestamp())


def format_unix(ts: float | None) -> str:
    """A unix time as RFC3339Nano in UTC; Go's zero time when never set."""
    if ts is None:
        return ZERO_TIME
    dt = datetime.fromtimestamp(ts, UTC)
    frac = f"{dt.microsecond:06d}".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def summary(img: ImageRow, tags: list[str], digests: list[str]) -> ImageSummary:
    return ImageSummary(
        id=img.id,
        repo_tags=tags,
        repo_digests=digests,
        created=img.created,
        size=img.size,
        labels=dict(img.labels),
    )


def inspect(
    img: ImageRow, config: ImageConfig, tags: list[str], digests: list[str],
    driver_name: str, driver_data: dict[str, str] | None,
) -> ImageInspect:
    raw = config.raw
    comment = str(raw.get("comment", "") or "")
    history = config.history
    if not comment and history:
        comment = str(history[-1].get("comment", "") or "")
    return ImageInspect(
        id=img.id,
        repo_tags=[familiar(t) for t in tags],
        repo_digests=[familiar(d) for d in digests],
        created=rfc3339_nano(config.created) if config.created else "",
        config=raw.get("config"),
        architecture=config.architecture,
        os=config.os,
        variant=config.variant,
        os_version=str(raw.get("os.version", "") or ""),
        size=img.size,
        layers=config.diff_ids,
        graph_driver_name=driver_name,
        graph_driver_data=driver_data,
        comment=comment,
        docker_version=str(raw.get("docker_version", "") or ""),
        author=str(raw.get("author", "") or ""),
        last_tag_time=format_unix(img.last_tag_time),
    )


def history(img: ImageRow, config: ImageConfig, tags: list[str], layer_sizes: list[int]) -> list[HistoryItem]:
    """Newest first; only the top entry carries the image ID and tags (no parent chain here)."""
    items: list[HistoryItem] = []
    layer = 0
    for h in config.history:
        size = 0
        if not h.get("empty_layer"):
            if layer < len(layer_sizes):
                size = layer_sizes[layer]
            layer += 1
        items.append(HistoryItem(
            id="<missing>",
            created=unix_seconds(str(h.get("created", "") or "")),
            created_by=str(h.get("created_by", "") or ""),
            tags=None,
            size=size,
            comment=str(h.get("comment", "") or ""),
        ))
    items.reverse()
    if items:
        items[0].id = img.id
        items[0].tags = [familiar(t) for t in tags] or None
    return items
