"""`docker ps --filter`: id, name, label, status, health, exited, ancestor, before, since."""

from __future__ import annotations

import re
from collections.abc import Callable

from sampan.daemon.containers import state as st
from sampan.daemon.containers.health import health_filter_value
from sampan.daemon.containers.record import ContainerRecord
from sampan.errdefs import InvalidArgument, NotFound

HEALTH_VALUES = ("starting", "healthy", "unhealthy", "none")
KNOWN = frozenset({"id", "name", "label", "label!", "status", "exited", "ancestor", "before", "since",
                   "until", "health", "network", "volume", "publish", "expose", "isolation", "is-task"})


def _label_ok(labels: dict[str, str], wanted: list[str]) -> bool:
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def matches(rec: ContainerRecord, filters: dict[str, list[str]], lookup: Callable[[str], ContainerRecord],
            image_id: Callable[[str], str | None]) -> bool:
    for key in filters:
        if key not in KNOWN:
            raise InvalidArgument(f"invalid filter '{key}'")
    if (ids := filters.get("id")) and not any(rec.id.startswith(i) for i in ids):
        return False
    if (wanted := filters.get("name")) and not any(re.search(n.lstrip("/"), rec.name) for n in wanted):
        return False
    labels = rec.config.get("Labels") or {}
    if (wanted := filters.get("label")) and not _label_ok(labels, wanted):
        return False
    if (wanted := filters.get("label!")) and any(_label_ok(labels, [w]) for w in wanted):
        return False
    if wanted := filters.get("status"):
        for s in wanted:
            if s not in st.STATES:
                raise InvalidArgument(f"invalid filter 'status={s}'")
        if rec.state.status not in wanted:
            return False
    if wanted := filters.get("health"):
        for h in wanted:
            if h not in HEALTH_VALUES:
                raise InvalidArgument(f"Unrecognised filter value for health: {h}")
        if health_filter_value(rec) not in wanted:
            return False
    if wanted := filters.get("exited"):
        if rec.state.status != st.EXITED:
            return False
        try:
            codes = {int(c) for c in wanted}
        except ValueError:
            raise InvalidArgument(f"invalid filter 'exited={wanted[0]}'") from None
        if rec.state.exit_code not in codes:
            return False
    if ancestors := filters.get("ancestor"):
        image_ids = {image_id(a) for a in ancestors} - {None}
        if rec.image_id not in image_ids and rec.image_name not in ancestors:
            return False
    for key, newer in (("before", False), ("since", True)):
        for ref in filters.get(key, []):
            try:
                other = lookup(ref)
            except NotFound:
                raise InvalidArgument(f"No such container: {ref}") from None
            if newer and rec.created_ns <= other.created_ns:
                return False
            if not newer and rec.created_ns >= other.created_ns:
                return False
    return True
