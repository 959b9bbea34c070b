"""Docker's text formatting: tabwriter tables, human sizes and durations, short IDs.

The rules are go-units' and text/tabwriter's, so output lines up with `docker`'s own.
"""

from __future__ import annotations

import time

from sampan.api.units import human_duration

TAB_MINWIDTH = 10
TAB_PADDING = 3
_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def tabwrite(text: str, minwidth: int = TAB_MINWIDTH, padding: int = TAB_PADDING) -> str:
    """Align tab-terminated cells like Go's tabwriter (padchar ' ', no flags).

    A column block is a run of consecutive lines that all have a tab-terminated cell in that
    column; each block gets its own width (widest cell + padding, at least minwidth). The
    last cell of a line is not aligned.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    widths: list[list[int]] = [[] for _ in lines]
    _blocks(lines, 0, len(lines), [], widths, minwidth, padding)
    out = []
    for cells, ws in zip(lines, widths, strict=True):
        parts = [cell + " " * (w - len(cell)) for cell, w in zip(cells[:-1], ws, strict=False)]
        parts.append(cells[-1])
        out.append("".join(parts))
    return "\n".join(out)


def _blocks(lines: list[list[str]], lo: int, hi: int, stack: list[int], widths: list[list[int]],
            minwidth: int, padding: int) -> None:
    col = len(stack)
    i = lo
    while i < hi:
        if col >= len(lines[i]) - 1:
            widths[i] = stack
            i += 1
            continue
        j, width = i, minwidth
        while j < hi and col < len(lines[j]) - 1:
            width = max(width, len(lines[j][col]) + padding)
            j += 1
        _blocks(lines, i, j, [*stack, width], widths, minwidth, padding)
        i = j


def human_size(size: float, precision: int = 4) -> str:
    """go-units HumanSizeWithPrecision: decimal units, `%.<precision>g`."""
    i = 0
    while size >= 1000.0 and i < len(_DECIMAL_UNITS) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{_DECIMAL_UNITS[i]}"


def since(timestamp: float, now: float | None = None) -> str:
    """`2 hours ago` for a unix time."""
    now = time.time() if now is None else now
    return human_duration(now - timestamp) + " ago"


def go_time_string(timestamp: float) -> str:
    """Go's time.Unix(t, 0).String() in local time: `2024-01-02 15:04:05 +0000 UTC`."""
    t = time.localtime(int(timestamp))
    return time.strftime("%Y-%m-%d %H:%M:%S %z ", t) + (t.tm_zone or "")


def rfc3339(timestamp: float) -> str:
    """Go's time.RFC3339 in local time: `2024-01-02T15:04:05Z` or `...+01:00`."""
    t = time.localtime(int(timestamp))
    off = t.tm_gmtoff or 0
    if off == 0:
        zone = "Z"
    else:
        sign = "+" if off > 0 else "-"
        zone = f"{sign}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + zone


def parse_rfc3339(text: str) -> float | None:
    """Unix time of the daemon's RFC 3339 (nanosecond) timestamps, None when unparsable."""
    import datetime

    s = text.strip()
    if not s:
        return None
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    date, _, rest = s.partition(".")
    if rest:
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        s = f"{date}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        return datetime.datetime.fromisoformat(s).timestamp()
    except ValueError:
        return None


def trunc_id(image_id: str) -> str:
    """stringid.TruncateID: drop the algorithm and keep 12 hex digits."""
    _, _, hexpart = image_id.rpartition(":")
    return hexpart[:12]


def ellipsis(text: str, width: int) -> str:
    """Cut to `width` characters, the last one being `…`."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"
