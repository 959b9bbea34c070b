"""Which events a `GET /events` client asked for: the `filters` query, matched as dockerd does.

Values of one key are alternatives (any may match); different keys must all match. `container`
(and the other object kinds) match the actor's ID or `name` attribute, also by prefix;
`image` matches the image an event is about, with or without its tag; `label` wants every
`key` or `key=value` among the actor's attributes; `event` matches the action, or for
`exec_create: sh` and `health_status: healthy` the part before the colon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sampan.api.events import EventView as Event
from sampan.errdefs import InvalidArgument

ACCEPTED = frozenset({
    "config", "container", "daemon", "event", "image", "label", "network", "node", "plugin",
    "scope", "secret", "service", "type", "volume",
})
# Filter keys that name an object kind: they match the actor's ID or name, whatever the event type.
_BY_NAME = ("config", "container", "daemon", "network", "node", "plugin", "secret", "service", "volume")


def _exact(values: Sequence[str] | None, source: str) -> bool:
    return not values or source in values


def _fuzzy(values: Sequence[str] | None, source: str) -> bool:
    return not values or any(source.startswith(v) for v in values)


def _labels(values: Sequence[str] | None, attributes: Mapping[str, str]) -> bool:
    for value in values or ():
        key, has_value, want = value.partition("=")
        if key not in attributes or (has_value and attributes[key] != want):
            return False
    return True


def _strip_tag(image: str) -> str:
    """`busybox:latest` -> `busybox`, `127.0.0.1:5000/a/b@sha256:..` -> `127.0.0.1:5000/a/b`."""
    from sampan.oci.reference import parse_normalized_named

    try:
        return parse_normalized_named(image).familiar_name
    except Exception:
        return image


class EventFilter:
    """A validated `filters` map; `include(event)` says whether a client gets the event."""

    def __init__(self, filters: Mapping[str, Sequence[str]] | None = None) -> None:
        filters = filters or {}
        for key in filters:
            if key not in ACCEPTED:
                raise InvalidArgument(f"invalid filter '{key}'")
        self.filters = {k: list(v) for k, v in filters.items() if v}

    def __bool__(self) -> bool:
        return bool(self.filters)

    def include(self, ev: Event) -> bool:
        f = self.filters
        if not f:
            return True
        attrs = ev.attributes
        name = attrs.get("name", "")
        return (
            self._event(ev.action)
            and _exact(f.get("type"), ev.type)
            and _exact(f.get("scope"), ev.scope)
            and all(_fuzzy(f.get(k), ev.actor_id) or _fuzzy(f.get(k), name) for k in _BY_NAME if k in f)
            and self._image(ev)
            and _labels(f.get("label"), attrs)
        )

    def _event(self, action: str) -> bool:
        values = self.filters.get("event")
        return not values or action in values or action.partition(": ")[0] in values

    def _image(self, ev: Event) -> bool:
        values = self.filters.get("image")
        if not values:
            return True
        name = ev.attributes.get("name" if ev.type == "image" else "image", "")
        candidates = {ev.actor_id, name, _strip_tag(ev.actor_id), _strip_tag(name)}
        return any(c in values for c in candidates if c)
