"""GET /events over a real server socket, with the real event bus (no daemon)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sampan.daemon.events import EventBus
from sampan.server.router import Router
from sampan.server.routes import events as events_route
from tests.unit.server.harness import RawClient, ServerThread, get


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def server(tmp_path: object, bus: EventBus) -> Iterator[ServerThread]:
    router = Router()
    events_route.add_routes(router, bus)
    st = ServerThread(router, os.path.join(str(tmp_path), "api.sock")).start()
    try:
        yield st
    finally:
        st.stop()


def open_stream(server: ServerThread, query: str = "") -> RawClient:
    c = server.connect()
    c.send(get("/v1.44/events" + query))
    head = c.read_until(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0] and b"chunked" in head.lower()
    return c


def next_events(c: RawClient) -> list[dict[str, Any]]:
    size = int(c.read_until(b"\r\n").strip(), 16)
    data = c.read_exact(size)
    assert c.read_exact(2) == b"\r\n"
    return [json.loads(line) for line in data.splitlines()]


def wait_for(cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def secs(ns: int) -> str:
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def test_past_window_is_replayed_and_the_response_ends(server: ServerThread, bus: EventBus) -> None:
    before = time.time_ns()
    bus.publish("container", "create", "c1", {"name": "a"})
    bus.publish("container", "start", "c1", {"name": "a"})
    bus.publish("image", "pull", "busybox:latest", {"name": "busybox"})
    after = time.time_ns()
    c = server.connect()
    try:
        c.send(get(f"/events?since={secs(before)}&until={secs(after)}"))
        status, _, body = c.response()
        assert status == 200
        assert [json.loads(x)["Action"] for x in body.splitlines()] == ["create", "start", "pull"]
        c.send(get(f"/events?since={secs(before)}&until={secs(after)}&filters="
                   + '%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D'))
        _, _, body = c.response()
        assert [json.loads(x)["Action"] for x in body.splitlines()] == ["create", "start"]
        c.send(get(f"/events?since={secs(after)}&until={secs(after + 1)}"))
        assert c.response()[2] == b""
    finally:
        c.close()
    assert bus.subscriber_count() == 0


def test_since_after_until_is_refused(server: ServerThread) -> None:
    c = server.connect()
    try:
        c.send(get("/events?since=1700000010&until=1700000000"))
        status, _, body = c.response()
        assert status == 400
        assert json.loads(body)["message"] == \
            "`since` time (1700000010) cannot be after `until` time (1700000000)"
        c.send(get("/events?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D"))
        status, _, body = c.response()
        assert (status, json.loads(body)["message"]) == (400, "invalid filter 'colour'")
        c.send(get("/events?since=yesterday"))
        assert c.response()[0] == 400
    finally:
        c.close()


def test_two_live_clients_see_the_same_event_and_leave_no_subscriber(server: ServerThread,
                                                                     bus: EventBus) -> None:
    bus.publish("container", "create", "old")  # kept, but a plain stream replays nothing
    a, b = open_stream(server), open_stream(server)
    try:
        wait_for(lambda: bus.subscriber_count() == 2)
        bus.publish("container", "start", "c1", {"image": "busybox", "name": "web"})
        for c in (a, b):
            (ev,) = next_events(c)
            assert (ev["Action"], ev["id"], ev["from"], ev["Actor"]["Attributes"]["name"]) == \
                ("start", "c1", "busybox", "web")
    finally:
        a.close()
        b.close()
    wait_for(lambda: bus.subscriber_count() == 0)
    bus.publish("container", "die", "c1")  # publishing still works with nobody listening


def test_live_stream_filters_and_replays_since(server: ServerThread, bus: EventBus) -> None:
    since = time.time_ns()
    bus.publish("container", "create", "c1", {"name": "web"})
    c = open_stream(server, f"?since={secs(since)}&filters=%7B%22container%22%3A%5B%22web%22%5D%7D")
    try:
        assert [e["Action"] for e in next_events(c)] == ["create"]
        wait_for(lambda: bus.subscriber_count() == 1)
        bus.publish("container", "start", "c2", {"name": "db"})
        bus.publish("container", "start", "c1", {"name": "web"})
        assert [(e["Action"], e["id"]) for e in next_events(c)] == [("start", "c1")]
    finally:
        c.close()
    wait_for(lambda: bus.subscriber_count() == 0)


def test_until_in_the_future_ends_the_stream_then(server: ServerThread, bus: EventBus) -> None:
    until = time.time_ns() + 400_000_000
    c = server.connect()
    try:
        c.send(get(f"/events?until={secs(until)}"))
        wait_for(lambda: bus.subscriber_count() == 1)
        bus.publish("container", "start", "c1")
        status, _, body = c.response()  # returns once the stream ended
        assert status == 200 and json.loads(body)["Action"] == "start"
        assert time.time_ns() >= until
    finally:
        c.close()
    wait_for(lambda: bus.subscriber_count() == 0)
