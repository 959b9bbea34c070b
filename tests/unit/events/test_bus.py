"""The event bus, the attributes services attach, and the image deletion events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sampan.api.images import DeleteItem
from sampan.daemon.events import (
    Event,
    EventBus,
    container_attributes,
    container_event,
    exit_events,
    prune_event,
)
from sampan.daemon.image_events import ImageIndex, publish_deletions


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000_000_000_000

    def __call__(self) -> int:
        self.t += 1000
        return self.t


def test_fan_out_to_every_subscriber_in_one_order() -> None:
    bus = EventBus(clock=Clock())
    a: list[Event] = []
    b: list[Event] = []
    bus.publish("container", "create", "c1")
    assert bus.subscribe(a.append) == bus.history()
    assert len(bus.subscribe(b.append)) == 1
    bus.publish("container", "start", "c1")
    bus.publish("image", "pull", "busybox:latest", {"name": "busybox"})
    assert [e.action for e in a] == [e.action for e in b] == ["start", "pull"]
    assert a[0].time_nano < a[1].time_nano
    bus.unsubscribe(a.append)
    bus.unsubscribe(b.append)
    assert bus.subscriber_count() == 0


def test_history_keeps_the_last_limit_events() -> None:
    bus = EventBus(limit=3)
    for i in range(5):
        bus.publish("container", "start", f"c{i}")
    assert [e.actor_id for e in bus.history()] == ["c2", "c3", "c4"]


def test_a_failing_subscriber_is_dropped_not_the_publisher() -> None:
    bus = EventBus()

    def broken(ev: Event) -> None:
        raise RuntimeError("gone")

    bus.subscribe(broken)
    bus.publish("container", "start", "c1")
    assert bus.subscriber_count() == 0


def test_wire_shape_has_dockers_legacy_fields() -> None:
    ev = Event("container", "start", "c1", {"image": "busybox", "name": "x"}, 1_700_000_000_123_456_789)
    assert ev.to_wire() == {
        "status": "start", "id": "c1", "from": "busybox", "Type": "container", "Action": "start",
        "Actor": {"ID": "c1", "Attributes": {"image": "busybox", "name": "x"}}, "scope": "local",
        "time": 1_700_000_000, "timeNano": 1_700_000_000_123_456_789,
    }
    assert "status" not in Event("network", "create", "n1").to_wire()


@dataclass
class State:
    exit_code: int = 0
    oom_killed: bool = False
    started_at: str = "2026-11-28T07:40:00.5Z"
    finished_at: str = "2026-11-28T07:40:03.9Z"


@dataclass
class Rec:
    id: str = "c" * 64
    name: str = "web"
    image_name: str = "busybox"
    config: dict[str, Any] = field(default_factory=lambda: {"Labels": {"name": "label-loses", "tier": "front"}})
    state: State = field(default_factory=State)


def test_container_attributes_labels_then_image_and_name() -> None:
    assert container_attributes(Rec(), {"signal": "15"}) == {
        "name": "web", "tier": "front", "image": "busybox", "signal": "15"}
    assert container_attributes(Rec(config={})) == {"image": "busybox", "name": "web"}


def test_exit_events_oom_then_die_with_code_and_duration() -> None:
    bus = EventBus()
    exit_events(bus, Rec(state=State(exit_code=137, oom_killed=True)))
    oom, die = bus.history()
    assert (oom.action, die.action) == ("oom", "die")
    assert die.attributes["exitCode"] == "137" and die.attributes["execDuration"] == "3"
    exit_events(bus, Rec(state=State(started_at="0001-01-01T00:00:00Z")))
    assert bus.history()[-1].attributes["execDuration"] == "0"


def test_container_event_and_prune_event() -> None:
    bus = EventBus()
    container_event(bus, Rec(), "rename", oldName="/old")
    container_event(None, Rec(), "start")  # no bus: nothing to do
    prune_event(bus, "container", 1234)
    rename, prune = bus.history()
    assert rename.attributes["oldName"] == "/old" and rename.attributes["name"] == "web"
    assert (prune.type, prune.actor_id, dict(prune.attributes)) == ("container", "", {"reclaimed": "1234"})


@dataclass
class Row:
    id: str
    labels: dict[str, str]


class Meta:
    def __init__(self) -> None:
        self.rows = [Row("sha256:" + "a" * 64, {"v": "1"}), Row("sha256:" + "b" * 64, {})]

    def images(self) -> list[Row]:
        return self.rows

    def refs_of(self, image_id: str) -> tuple[list[str], list[str]]:
        if image_id.endswith("a"):
            return ["docker.io/library/app:v1", "docker.io/library/app:v2"], []
        return [], []


def test_deletions_become_untag_and_delete_events() -> None:
    bus = EventBus()
    index = ImageIndex.of(Meta())
    a = "sha256:" + "a" * 64
    items = [DeleteItem(untagged="app:v1"), DeleteItem(untagged="app:v2"), DeleteItem(deleted=a),
             DeleteItem(deleted="sha256:" + "c" * 64)]  # a layer's chain ID: no event
    publish_deletions(bus, index, items)
    got = [(e.action, e.actor_id, dict(e.attributes)) for e in bus.history()]
    assert got == [("untag", a, {"v": "1", "name": a}), ("untag", a, {"v": "1", "name": a}),
                   ("delete", a, {"name": a})]


def test_rmi_by_tag_takes_the_repository_digests_silently() -> None:
    bus = EventBus()
    a = "sha256:" + "a" * 64
    index = ImageIndex(labels={a: {}}, by_ref={"app:v1": a, "app@sha256:" + "d" * 64: a})
    items = [DeleteItem(untagged="app:v1"), DeleteItem(untagged="app@sha256:" + "d" * 64), DeleteItem(deleted=a)]
    publish_deletions(bus, index, items, named="app:v1")
    assert [e.action for e in bus.history()] == ["untag", "delete"]
    publish_deletions(bus, index, items, named=a[7:19])  # by ID: every reference is an untag event
    assert [e.action for e in bus.history()][2:] == ["untag", "untag", "delete"]
