"""ps and prune filters as dockerd reads them: every Engine API filter, checked up front."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sampan.daemon.containers import state as st
from sampan.daemon.containers.filters import KNOWN, PRUNE_FILTERS, PS_FILTERS, check
from sampan.daemon.containers.record import ContainerRecord, State
from sampan.errdefs import InvalidArgument, NotFound

STARTED = "2024-01-01T00:00:00Z"


def record(cid: str, name: str, created_ns: int, **kw: Any) -> ContainerRecord:
    base: dict[str, Any] = dict(
        id=cid, name=name, created=STARTED, created_ns=created_ns, image_id="sha256:" + "1" * 64,
        image_name="busybox", path="sh", args=[], config={"Labels": {}}, host_config={"NetworkMode": "default"},
        image_config={}, driver="overlay2")
    base.update(kw)
    return ContainerRecord(**base)


A = record("a" * 64, "web", 1, state=State(status=st.EXITED, exit_code=3, started_at=STARTED),
           config={"Labels": {"tier": "front", "x": "1"}, "ExposedPorts": {"80/tcp": {}}},
           host_config={"NetworkMode": "host", "Binds": ["/srv:/data:ro"]})
B = record("b" * 64, "db", 2, state=State(status=st.RUNNING, pid=10, started_at=STARTED),
           config={"Labels": {"tier": "back"}, "ExposedPorts": {"5432/tcp": {}}},
           host_config={"NetworkMode": "default", "PortBindings": {"5432/tcp": [{"HostIp": "", "HostPort": "15432"}]},
                        "Mounts": [{"Type": "volume", "Source": "pgdata", "Target": "/var/lib/pg"}]})
C = record("c" * 64, "fresh", 3, image_id="sha256:" + "2" * 64, image_name="other")  # created, never started
ALL = (A, B, C)


def lookup(ref: str) -> ContainerRecord:
    for r in ALL:
        if r.id.startswith(ref) or r.name == ref.lstrip("/"):
            return r
    raise NotFound(f"No such container: {ref}")


def image_id(name: str) -> str | None:
    return {"busybox": "sha256:" + "1" * 64, "other": "sha256:" + "2" * 64}.get(name)


def pick(filters: dict[str, list[str]], accepted: frozenset[str] = PS_FILTERS) -> list[str]:
    checked = check(filters, accepted, lookup, image_id)
    return [r.name for r in ALL if checked.match(r)]


@pytest.mark.parametrize(("filters", "names"), [
    ({"id": ["bbb"]}, ["db"]),
    ({"name": ["^/?w"]}, ["web"]),
    ({"name": ["/db"]}, ["db"]),
    ({"name": ["[bad"]}, []),  # an invalid expression matches nothing, as Go's Args.Match
    ({"label": ["tier"]}, ["web", "db"]),
    ({"label": ["tier=front", "x=1"]}, ["web"]),
    ({"status": ["running", "created"]}, ["db", "fresh"]),
    ({"exited": ["3"]}, ["web"]),
    ({"exited": ["0"]}, []),  # "fresh" never started: not an exit
    ({"ancestor": ["other"]}, ["fresh"]),
    ({"ancestor": ["missing"]}, []),
    ({"before": ["fresh"]}, ["web", "db"]),
    ({"since": ["web"]}, ["db", "fresh"]),
    ({"is-task": ["false"]}, ["web", "db", "fresh"]),
    ({"is-task": ["true"]}, []),
    ({"isolation": ["hyperv"]}, ["web", "db", "fresh"]),  # accepted and ignored on Linux
    ({"health": ["none"]}, ["web", "db", "fresh"]),
    ({"volume": ["/data"]}, ["web"]),
    ({"volume": ["pgdata"]}, ["db"]),
    ({"network": ["bridge"]}, ["db", "fresh"]),
    ({"network": ["host"]}, ["web"]),
    ({"expose": ["5430-5440"]}, ["db"]),
    ({"expose": ["80"]}, []),  # ports exist only while the container runs
    ({"publish": ["15432/tcp"]}, ["db"]),
    ({"publish": ["15432/udp"]}, []),
])
def test_ps_filters(filters: dict[str, list[str]], names: list[str]) -> None:
    assert pick(filters) == names


@pytest.mark.parametrize(("filters", "message"), [
    ({"bogus": ["1"]}, "invalid filter 'bogus'"),
    ({"until": ["1h"]}, "invalid filter 'until'"),  # a prune filter only
    ({"label!": ["a"]}, "invalid filter 'label!'"),
    ({"status": ["up"]}, "invalid filter 'status=up'"),
    ({"exited": ["x"]}, "invalid filter 'exited=x'"),
    ({"health": ["sick"]}, "Unrecognised filter value for health: sick"),
    ({"is-task": ["maybe"]}, "invalid filter 'is-task=[maybe]'"),
    ({"publish": ["8080:80"]}, "filter for 'publish' should not contain ':': 8080:80"),
    ({"expose": ["http"]}, "error while looking up for expose http"),
])
def test_bad_filters_are_refused_before_matching(filters: dict[str, list[str]], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[").replace("]", r"\]")):
        check(filters, PS_FILTERS, lookup, image_id)  # no record needed to get the error


def test_before_an_unknown_container_is_not_found() -> None:
    with pytest.raises(NotFound, match="No such container: ghost"):
        check({"since": ["ghost"]}, PS_FILTERS, lookup, image_id)


def test_prune_filters() -> None:
    assert pick({"label!": ["tier=front"]}, PRUNE_FILTERS) == ["db", "fresh"]
    assert pick({"label!": ["tier", "x"]}, PRUNE_FILTERS) == ["db", "fresh"]  # excluded only when all match
    assert pick({"until": ["0"]}, PRUNE_FILTERS) == []  # all created (1..3 ns) after the epoch
    assert pick({"until": [str(int(time.time()) + 60)]}, PRUNE_FILTERS) == ["web", "db", "fresh"]
    assert pick({"until": ["10m"]}, PRUNE_FILTERS) == ["web", "db", "fresh"]  # ten minutes ago
    with pytest.raises(InvalidArgument, match="invalid filter 'status'"):
        check({"status": ["exited"]}, PRUNE_FILTERS, lookup, image_id)
    with pytest.raises(InvalidArgument, match="more than one until filter specified"):
        check({"until": ["1h", "2h"]}, PRUNE_FILTERS, lookup, image_id)
    with pytest.raises(InvalidArgument, match="failed to parse value as time or duration"):
        check({"until": ["soon"]}, PRUNE_FILTERS, lookup, image_id)
    assert KNOWN == PS_FILTERS | PRUNE_FILTERS
