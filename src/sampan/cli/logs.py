"""`sampan logs`: the container's log, split into stdout and stderr unless it has a TTY.

`--since`/`--until` accept what docker's timetypes.GetTimestamp accepts (a Go duration
like `10m` meaning that long ago, RFC 3339 times and dates, or unix seconds) and are sent
as `seconds.nanoseconds`, as the docker client library sends them.
"""

from __future__ import annotations

import time

from sampan.cli import stdio
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float | None:
    """time.ParseDuration: `1h30m`, `-5s`, `1.5h`; None when `text` is not a duration."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if not s:
        return None
    if s == "0":
        return 0.0
    total, i = 0.0, 0
    while i < len(s):
        j = i
        while j < len(s) and (s[j].isdigit() or s[j] == "."):
            j += 1
        if j == i:
            return None
        k = j
        while k < len(s) and not (s[k].isdigit() or s[k] == "."):
            k += 1
        unit = s[j:k]
        if unit not in _UNITS:
            return None
        try:
            total += float(s[i:j]) * _UNITS[unit]
        except ValueError:
            return None
        i = k
    return sign * total


def get_timestamp(value: str, now: float | None = None) -> str:
    """docker's timetypes.GetTimestamp: the `since`/`until` query value for `value`."""
    now = time.time() if now is None else now
    duration = go_duration_seconds(value)
    if duration is not None:
        return _seconds_nanos(now - duration)
    if value.replace(".", "", 1).isdigit():
        return value
    import datetime

    text = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H%z",
                "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H", "%Y-%m-%d"):
        try:
            parsed = datetime.datetime.strptime(_trim_nanos(text.replace("Z", "+00:00")), fmt)
        except ValueError:
            continue
        return _seconds_nanos(parsed.timestamp())
    raise StatusError(f'invalid value for "since": failed to parse value as time or duration: "{value}"', 1)


def _trim_nanos(text: str) -> str:
    date, dot, rest = text.partition(".")
    if not dot:
        return text
    n = 0
    while n < len(rest) and rest[n].isdigit():
        n += 1
    return f"{date}.{rest[:n][:6]}{rest[n:]}"


def _seconds_nanos(t: float) -> str:
    seconds = int(t // 1)
    return f"{seconds}.{round((t - seconds) * 1e9) % 1_000_000_000:09d}"


def run_logs(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    info = client.inspect_container(o.args[0])
    tty = bool((info.get("Config") or {}).get("Tty"))
    since = get_timestamp(o.since) if o.since else None
    until = get_timestamp(o.until) if o.until else None
    resp = client.logs(o.args[0], follow=o.follow, since=since, until=until, timestamps=o.timestamps,
                       tail=o.tail or "all")
    out, err = stdio.binary_writer(cli.out), stdio.binary_writer(cli.err)
    demux = None if tty else stdio.Demuxer()
    try:
        while data := resp.read1():
            if demux is None:
                out(data)
                continue
            for stream, payload in demux.feed(data):
                (err if stream in (stdio.STDERR, stdio.SYSTEMERR) else out)(payload)
    finally:
        resp.close()
    return 0


LOGS = Spec("[OPTIONS] CONTAINER", "Fetch the logs of a container", [
    Flag("details", "", "bool", "Show extra details provided to logs"),
    Flag("follow", "f", "bool", "Follow log output"),
    Flag("since", "", "string",
         'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
    Flag("tail", "n", "string", 'Number of lines to show from the end of the logs', default="all"),
    Flag("timestamps", "t", "bool", "Show timestamps"),
    Flag("until", "", "string",
         'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'),
], run_logs, min_args=1, max_args=1)
