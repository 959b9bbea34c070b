"""`docker ps --filter` and `container prune --filter`, as dockerd reads them.

Filters are checked once per request (`check`), so a bad filter is an error even when there is
no container to match, with dockerd's wording; the result then matches records one by one.
ps accepts every filter of the Engine API (`isolation` is accepted and ignored on Linux, as
dockerd does); prune accepts label, label! and until.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sampan.api.timestamps import TimestampError, event_time
from sampan.daemon.containers import state as st
from sampan.daemon.containers.health import health_filter_value
from sampan.daemon.containers.record import ZERO_TIME, ContainerRecord
from sampan.errdefs import InvalidArgument

HEALTH_VALUES = ("starting", "healthy", "unhealthy", "none")
PS_FILTERS = frozenset({"ancestor", "before", "exited", "id", "isolation", "label", "name", "status", "health",
                        "since", "volume", "network", "is-task", "publish", "expose"})
PRUNE_FILTERS = frozenset({"label", "label!", "until"})
KNOWN = PS_FILTERS | PRUNE_FILTERS

Lookup = Callable[[str], ContainerRecord]
ImageID = Callable[[str], "str | None"]


def _label_ok(labels: dict[str, str], wanted: list[str]) -> bool:
    """Every `key` or `key=value` in `wanted` holds (Docker's MatchKVList)."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def _regex_any(patterns: list[str], *texts: str) -> bool:
    """Docker's Args.Match: an exact value or an unanchored regular expression."""
    for pattern in patterns:
        for text in texts:
            if pattern == text:
                return True
            try:
                if re.search(pattern, text):
                    return True
            except re.error:
                continue
    return False


def _ports(key: str, values: list[str]) -> set[str]:
    """`80`, `80/udp`, `8000-8010/tcp` -> {"80/tcp", ...}."""
    out: set[str] = set()
    for value in values:
        if ":" in value:
            raise InvalidArgument(f"filter for '{key}' should not contain ':': {value}")
        port, _, proto = value.partition("/")
        start, dash, end = port.partition("-")
        try:
            first, last = int(start), int(end) if dash else int(start)
            if not (0 <= first <= 65535 and 0 <= last <= 65535):
                raise ValueError(port)
        except ValueError:
            raise InvalidArgument(f"error while looking up for {key} {value}: invalid port range: {port}") from None
        out.update(f"{p}/{proto or 'tcp'}" for p in range(first, last + 1))
    return out


@dataclass
class Checked:
    """Validated filters, ready to match records."""

    filters: dict[str, list[str]]
    exited: set[int] = field(default_factory=set)
    before_ns: int | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    is_task: bool | None = None
    image_ids: set[str] | None = None
    publish: set[str] = field(default_factory=set)
    expose: set[str] = field(default_factory=set)

    def match(self, rec: ContainerRecord) -> bool:
        f = self.filters
        if (ids := f.get("id")) and not any(rec.id.startswith(i) for i in ids):
            return False
        if (names := f.get("name")) and not _regex_any(names, rec.name, "/" + rec.name):
            return False
        labels = rec.config.get("Labels") or {}
        if (wanted := f.get("label")) and not _label_ok(labels, wanted):
            return False
        if (wanted := f.get("label!")) and _label_ok(labels, wanted):
            return False
        if self.is_task:  # no container here is a swarm task
            return False
        if self.before_ns is not None and rec.created_ns >= self.before_ns:
            return False
        if self.since_ns is not None and rec.created_ns <= self.since_ns:
            return False
        if self.until_ns is not None and rec.created_ns > self.until_ns:
            return False
        if self.exited and (st.is_active(rec.state.status) or rec.state.started_at == ZERO_TIME
                            or rec.state.exit_code not in self.exited):
            return False
        if (wanted := f.get("status")) and rec.state.status not in wanted:
            return False
        if (wanted := f.get("health")) and health_filter_value(rec) not in wanted:
            return False
        if (wanted := f.get("volume")) and not set(wanted) & _mount_keys(rec):
            return False
        if self.image_ids is not None and rec.image_id not in self.image_ids \
                and rec.image_name not in f["ancestor"]:  # also as created, should the tag have moved
            return False
        if (wanted := f.get("network")) and not set(wanted) & _networks(rec):
            return False
        if self.publish or self.expose:
            private, public = _container_ports(rec)
            if not (self.publish & public or self.expose & private):
                return False
        return True


def _mount_keys(rec: ContainerRecord) -> set[str]:
    """Names, sources and destinations of the container's mounts (the volume filter's keys)."""
    out: set[str] = set()
    for bind in rec.host_config.get("Binds") or []:
        parts = str(bind).split(":")
        out.update(parts[:2])
    for m in rec.host_config.get("Mounts") or []:
        if isinstance(m, dict):
            out.update(str(m.get(k) or "") for k in ("Source", "Target"))
    return out - {""}


def _networks(rec: ContainerRecord) -> set[str]:
    mode = str(rec.host_config.get("NetworkMode") or "default")
    if mode.startswith("container:"):
        return set()
    return {"bridge" if mode == "default" else mode}


def _container_ports(rec: ContainerRecord) -> tuple[set[str], set[str]]:
    """(exposed "port/proto", published host "port/proto") of a running container."""
    if rec.state.status not in (st.RUNNING, st.PAUSED):
        return set(), set()
    bindings = rec.host_config.get("PortBindings") or {}
    private = {p if "/" in p else p + "/tcp" for p in [*(rec.config.get("ExposedPorts") or {}), *bindings]}
    public = set()
    for port, binds in bindings.items():
        proto = port.partition("/")[2] or "tcp"
        for b in binds or []:
            if isinstance(b, dict) and str(b.get("HostPort") or "").isdigit():
                public.add(f"{b['HostPort']}/{proto}")
    return private, public


def check(filters: dict[str, list[str]] | None, accepted: frozenset[str], lookup: Lookup,
          image_id: ImageID) -> Checked:
    """Validate `filters` with dockerd's wording; InvalidArgument/NotFound on the first bad one."""
    f = {k: list(v) for k, v in (filters or {}).items()}
    for key in f:
        if key not in accepted:
            raise InvalidArgument(f"invalid filter '{key}'")
    out = Checked(f)
    for value in f.get("exited", []):
        try:
            out.exited.add(int(value))
        except ValueError:
            raise InvalidArgument(f"invalid filter 'exited={value}': strconv.Atoi: parsing \"{value}\": "
                                  "invalid syntax") from None
    for value in f.get("status", []):
        if value not in st.STATES:
            raise InvalidArgument(f"invalid filter 'status={value}'")
    if "is-task" in f:
        if f["is-task"] not in (["true"], ["false"]):
            raise InvalidArgument(f"invalid filter 'is-task=[{' '.join(f['is-task'])}]'")
        out.is_task = f["is-task"] == ["true"]
    for value in f.get("health", []):
        if value not in HEALTH_VALUES:
            raise InvalidArgument(f"Unrecognised filter value for health: {value}")
    for key in ("before", "since"):
        for ref in f.get(key, []):
            created = lookup(ref).created_ns  # NotFound: "No such container: <ref>", as dockerd
            setattr(out, f"{key}_ns", created)
    if "ancestor" in f:
        out.image_ids = {i for i in (image_id(a) for a in f["ancestor"]) if i}
    out.publish = _ports("publish", f.get("publish", []))
    out.expose = _ports("expose", f.get("expose", []))
    if until := f.get("until"):
        if len(until) > 1:
            raise InvalidArgument("more than one until filter specified")
        try:
            out.until_ns = event_time(until[0])
        except TimestampError as exc:
            raise InvalidArgument(str(exc)) from None
    return out


def matches(rec: ContainerRecord, filters: dict[str, list[str]], lookup: Lookup, image_id: ImageID) -> bool:
    """One record against unchecked filters (any known key)."""
    return check(filters, KNOWN, lookup, image_id).match(rec)
