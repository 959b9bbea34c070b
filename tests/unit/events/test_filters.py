"""dockerd's event filters: keys, prefixes, image tags, labels, exec/health actions."""

from __future__ import annotations

import pytest

from sampan.daemon.event_filters import EventFilter
from sampan.daemon.events import Event
from sampan.errdefs import InvalidArgument

CID = "4f1b2c3d" + "0" * 56
START = Event("container", "start", CID, {"image": "127.0.0.1:5000/busybox:latest", "name": "web", "tier": "front"})
PULL = Event("image", "pull", "busybox:latest", {"name": "busybox"})
TAG = Event("image", "tag", "sha256:" + "a" * 64, {"name": "app:v1"})
EXEC = Event("container", "exec_create: sh -c true", CID, {"name": "web", "execID": "x"})
HEALTH = Event("container", "health_status: healthy", CID, {"name": "web"})


def inc(filters: dict[str, list[str]], ev: Event) -> bool:
    return EventFilter(filters).include(ev)


def test_no_filters_include_everything() -> None:
    assert not EventFilter({})
    assert inc({}, START) and inc({}, PULL)


def test_unknown_key_is_refused_with_dockers_words() -> None:
    with pytest.raises(InvalidArgument, match="invalid filter 'colour'"):
        EventFilter({"colour": ["red"]})


def test_type_and_event() -> None:
    assert inc({"type": ["container"]}, START) and not inc({"type": ["container"]}, PULL)
    assert inc({"type": ["image", "container"]}, PULL)
    assert inc({"event": ["start", "die"]}, START) and not inc({"event": ["die"]}, START)
    assert inc({"event": ["start"], "type": ["container"]}, START)
    assert not inc({"event": ["start"], "type": ["image"]}, START)


def test_event_before_the_colon_for_exec_and_health() -> None:
    assert inc({"event": ["exec_create"]}, EXEC)
    assert inc({"event": ["exec_create: sh -c true"]}, EXEC)
    assert inc({"event": ["health_status"]}, HEALTH)
    assert not inc({"event": ["exec_start"]}, EXEC)


def test_container_by_name_id_or_prefix() -> None:
    for value in ("web", CID, CID[:12], "we"):
        assert inc({"container": [value]}, START), value
    assert not inc({"container": ["db"]}, START)
    assert not inc({"container": ["web"]}, PULL)  # an image event names no container


def test_image_with_or_without_tag() -> None:
    for value in ("127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox"):
        assert inc({"image": [value]}, START), value
    assert not inc({"image": ["busybox"]}, START)
    assert inc({"image": ["busybox"]}, PULL) and inc({"image": ["busybox:latest"]}, PULL)
    assert inc({"image": ["app:v1"]}, TAG) and inc({"image": ["app"]}, TAG)
    assert inc({"image": [TAG.actor_id]}, TAG)


def test_labels_all_must_match() -> None:
    assert inc({"label": ["tier"]}, START)
    assert inc({"label": ["tier=front"]}, START)
    assert not inc({"label": ["tier=back"]}, START)
    assert not inc({"label": ["tier", "zone"]}, START)
    assert not inc({"label": ["tier"]}, PULL)


def test_scope() -> None:
    assert inc({"scope": ["local"]}, START) and not inc({"scope": ["swarm"]}, START)
