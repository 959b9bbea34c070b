"""The `since`/`until` times of `/events` (and `/logs`), as the docker client and dockerd read them.

The docker client turns what a person typed (a Go duration like `10m` meaning that long ago,
an RFC 3339 time or date, or unix seconds) into `seconds[.nanoseconds]` before sending it
(`get_timestamp`, docker's timetypes.GetTimestamp); dockerd only parses that numeric form
(`parse_timestamp`, timetypes.ParseTimestamps). Shared by the CLI and the server, which may
not import each other.
"""

from __future__ import annotations

import re
import time

NANOS = 1_000_000_000

_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": NANOS,
                   "m": 60 * NANOS, "h": 3600 * NANOS}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?"
    r"(Z|z|[+-]\d{2}:\d{2})?"
)


class TimestampError(ValueError):
    """A value that is neither a duration, a time nor unix seconds (docker's wording)."""


def go_duration_nanos(text: str) -> int | None:
    """Go's time.ParseDuration in nanoseconds (`1h30m`, `-1.5s`, `0`); None when not a duration."""
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total, pos = 0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None or not (m.group(1) or m.group(2)):
            return None
        whole, frac, unit = m.group(1) or "0", m.group(2) or "", _DURATION_UNITS[m.group(3)]
        total += int(whole) * unit
        if frac:
            total += int(frac) * unit // 10 ** len(frac)
        pos = m.end()
    return sign * total


def _format(seconds: int, nanos: int) -> str:
    return f"{seconds}.{nanos:09d}"


def _parse_time(value: str, now: float) -> int:
    """An RFC 3339 time or date (local time when it names no zone) in unix nanoseconds."""
    import calendar

    m = _RFC3339.fullmatch(value)
    if m is None:
        raise TimestampError(f'parsing time "{value}": cannot parse as RFC 3339')
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour, minute, second = (int(g or 0) for g in m.group(4, 5, 6))
    nanos = int((m.group(7) or "").ljust(9, "0"))
    zone = m.group(8)
    fields = (year, month, day, hour, minute, second)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        raise TimestampError(f'parsing time "{value}": field out of range')
    utc = calendar.timegm((*fields, 0, 0, 0))
    if zone in ("Z", "z"):
        offset = 0
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    else:  # the client's zone, as docker's ParseInLocation with the reference time's zone
        offset = time.localtime(now).tm_gmtoff
    return (utc - offset) * NANOS + nanos


def parse_timestamp(value: str) -> int:
    """dockerd's ParseTimestamps: `seconds[.fraction]` (fraction padded or cut to 9 digits) -> ns."""
    seconds, dot, frac = value.partition(".")
    if not re.fullmatch(r"[+-]?\d+", seconds) or (dot and not re.fullmatch(r"\d+", frac)):
        raise TimestampError(f'strconv.ParseInt: parsing "{value}": invalid syntax')
    nanos = int(frac[:9].ljust(9, "0")) if dot else 0
    return int(seconds) * NANOS + nanos


def get_timestamp(value: str, now: float | None = None) -> str:
    """docker's GetTimestamp: what the client sends as `since`/`until` for what a person typed.

    A duration is counted back from `now` and sent as whole seconds; an RFC 3339 time as
    `seconds.nanoseconds`; unix seconds go through unchanged.
    """
    now = time.time() if now is None else now
    duration = go_duration_nanos(value)
    if duration is not None and value != "0":
        return str((int(now * NANOS) - duration) // NANOS)
    try:
        ns = _parse_time(value, now)
    except TimestampError:
        if "-" in value:
            raise
        try:
            parse_timestamp(value)
        except TimestampError:
            raise TimestampError(f'failed to parse value as time or duration: "{value}"') from None
        return value
    return _format(ns // NANOS, ns % NANOS)


def event_time(value: str, now: float | None = None) -> int | None:
    """A `since`/`until` query value in unix nanoseconds (None when empty).

    The numeric form is what clients send; a duration or an RFC 3339 time is accepted too,
    read as the docker client would have converted it.
    """
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except TimestampError:
        return parse_timestamp(get_timestamp(value, now))
