"""The `filters` of image list and prune, with Docker's keys, values and errors."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from sampan.errdefs import InvalidArgument

Filters = dict[str, list[str]]

LIST_KEYS = frozenset({"dangling", "label", "before", "since", "reference", "until"})
PRUNE_KEYS = frozenset({"dangling", "label", "label!", "until"})

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def validate(filters: Filters | None, accepted: Iterable[str]) -> Filters:
    filters = dict(filters or {})
    allowed = set(accepted)
    for key in filters:
        if key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")
    return filters


def get_bool(filters: Filters, key: str, default: bool) -> bool:
    values = filters.get(key) or []
    if not values:
        return default
    out = set()
    for v in values:
        low = v.lower()
        if low in ("true", "1"):
            out.add(True)
        elif low in ("false", "0"):
            out.add(False)
        else:
            raise InvalidArgument(f"invalid filter '{key}={v}'")
    if len(out) > 1:
        raise InvalidArgument(f"invalid filter '{key}': conflicting values")
    return out.pop()


def match_labels(filters: Filters, labels: dict[str, str], key: str = "label") -> bool:
    """Every `label` filter (`k` or `k=v`) holds; with `label!`, none of them does."""
    for f in filters.get(key) or []:
        k, sep, v = f.partition("=")
        hit = k in labels and (not sep or labels[k] == v)
        if key == "label" and not hit:
            return False
        if key == "label!" and hit:
            return False
    return True


def parse_timestamp(value: str, now: float | None = None) -> float:
    """Unix time from what `until` accepts: a Go duration before now, a unix time or a date."""
    now = time.time() if now is None else now
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return now - sum(float(n) * _UNITS[u] for n, u in parts)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"invalid filter 'until={value}': cannot parse as a time")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Go's path.Match: `*` and `?` stop at `/`, `[...]` classes with `^` negation, `\\` escapes."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise InvalidArgument(f"invalid reference filter {pattern!r}: syntax error in pattern")
            body = pattern[i + 1:end]
            neg = body.startswith("^")
            if neg:
                body = body[1:]
            out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def reference_matches(pattern: str, familiar_ref: str, familiar_name: str) -> bool:
    """Docker's FamiliarMatch: the familiar string (`app:1`, `app@sha256:..`) or the bare name."""
    rx = _glob_regex(pattern)
    return bool(rx.match(familiar_ref) or rx.match(familiar_name))
