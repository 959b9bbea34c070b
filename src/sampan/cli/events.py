"""`sampan events` (also `sampan system events`): the daemon's events as they happen.

Each event is printed as it arrives, until Ctrl-C or until the daemon ends the stream (an
`--until` was reached). The default line is docker's: local time with nanoseconds, type,
action, actor ID and the attributes sorted by key; `--format` runs a Go template over
docker's events.Message (`json` prints the message as JSON).
"""

from __future__ import annotations

import time

from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec, parse_filters

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

    from sampan.cli.template import Template

FORMAT_ERROR_STATUS = 64


class Actor:
    go_type = "events.Actor"

    def __init__(self, raw: dict[str, Any]) -> None:
        self.ID = str(raw.get("ID") or "")
        attributes = raw.get("Attributes") or {}
        self.Attributes: dict[str, str] = dict(attributes) if isinstance(attributes, dict) else {}

    def to_template_json(self) -> dict[str, Any]:
        return {"ID": self.ID, "Attributes": dict(sorted(self.Attributes.items()))}


class EventMessage:
    """docker's events.Message: the fields a `--format` template sees, by their Go names."""

    go_type = "events.Message"

    def __init__(self, raw: dict[str, Any]) -> None:
        self.Status = str(raw.get("status") or "")
        self.ID = str(raw.get("id") or "")
        self.From = str(raw.get("from") or "")
        self.Type = str(raw.get("Type") or "")
        self.Action = str(raw.get("Action") or "")
        self.Actor = Actor(raw.get("Actor") or {})
        self.Scope = str(raw.get("scope") or "")
        self.Time = int(raw.get("time") or 0)
        self.TimeNano = int(raw.get("timeNano") or 0)

    def to_template_json(self) -> dict[str, Any]:
        """The message as Go marshals it: legacy fields only when set, attributes sorted."""
        out: dict[str, Any] = {}
        for key, value in (("status", self.Status), ("id", self.ID), ("from", self.From)):
            if value:
                out[key] = value
        out.update({"Type": self.Type, "Action": self.Action, "Actor": self.Actor.to_template_json(),
                    "scope": self.Scope, "time": self.Time, "timeNano": self.TimeNano})
        return out


def local_time_nano(nanos: int) -> str:
    """Go's `2006-01-02T15:04:05.000000000Z07:00` in the local zone (`Z` at offset zero)."""
    seconds, frac = divmod(nanos, 1_000_000_000)
    t = time.localtime(seconds)
    offset = t.tm_gmtoff
    if offset == 0:
        zone = "Z"
    else:
        sign = "+" if offset > 0 else "-"
        hours, minutes = divmod(abs(offset) // 60, 60)
        zone = f"{sign}{hours:02d}:{minutes:02d}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{frac:09d}{zone}"


def pretty(msg: EventMessage) -> str:
    """docker's default line: `TIME TYPE ACTION ID (k=v, ...)`."""
    parts = []
    if msg.TimeNano:
        parts.append(local_time_nano(msg.TimeNano) + " ")
    elif msg.Time:
        parts.append(local_time_nano(msg.Time * 1_000_000_000) + " ")
    parts.append(f"{msg.Type} {msg.Action} {msg.Actor.ID}")
    attrs = msg.Actor.Attributes
    if attrs:
        parts.append(" (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")")
    return "".join(parts) + "\n"


def make_template(fmt: str) -> Template | None:
    """The `--format` template, checked on an empty message as docker does (exit 64 when bad)."""
    from sampan.cli.template import Template, TemplateError

    if not fmt:
        return None
    source = "{{json .}}" if fmt == "json" else fmt
    try:
        tmpl = Template(source)
        tmpl.execute(EventMessage({}))
    except TemplateError as e:
        raise StatusError(f"Error parsing format: {e}", FORMAT_ERROR_STATUS) from None
    return tmpl


def query(o: Parsed, now: float | None = None) -> dict[str, Any]:
    """The `/events` query the docker client sends for these flags."""
    from sampan.api.filters import encode_filters
    from sampan.api.timestamps import TimestampError, get_timestamp

    params: dict[str, Any] = {}
    now = time.time() if now is None else now
    for name in ("since", "until"):
        value = getattr(o, name)
        if value:
            try:
                params[name] = get_timestamp(value, now)
            except TimestampError as e:
                raise StatusError(str(e), 1) from None
    filters = parse_filters(o.filter)
    if filters:
        params["filters"] = encode_filters(filters)
    return params


def run_events(cli: Cli, o: Parsed) -> int:
    tmpl = make_template(o.format)
    params = query(o)
    stream = cli.client().stream_json("GET", "/events", params)
    try:
        for raw in stream:
            msg = EventMessage(raw)
            cli.write(pretty(msg) if tmpl is None else tmpl.execute(msg) + "\n")
            cli.out.flush()
    finally:
        getattr(stream, "close", lambda: None)()  # the connection goes with the generator
    return 0


EVENTS = Spec("[OPTIONS]", "Get real time events from the server", [
    Flag("filter", "f", "filter", "Filter output based on conditions provided"),
    Flag("format", "", "string",
         "Format output using a custom template:\n"
         "'json':             Print in JSON format\n"
         "'TEMPLATE':         Print output using the given Go template.\n"
         "Refer to https://docs.docker.com/go/formatting/ for more information about formatting templates"),
    Flag("since", "", "string", "Show all events created since timestamp"),
    Flag("until", "", "string", "Stream events until this timestamp"),
], run_events, max_args=0)
