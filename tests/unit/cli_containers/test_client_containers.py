"""The Python client's container methods against the fake engine."""

from __future__ import annotations

import pytest

from sampan import errdefs
from sampan.api.stdcopy import Demuxer
from sampan.client.api import APIClient
from tests.unit.cli_containers.fakeengine import FakeEngine


def _body(cmd: list[str], **extra: object) -> dict[str, object]:
    return {"Image": "busybox", "Cmd": cmd, "AttachStdout": True, "AttachStderr": True, **extra}


def test_lifecycle_through_the_client(engine: FakeEngine) -> None:
    with APIClient(engine.docker_host) as client:
        created = client.create_container(_body(["echo", "hello"]), name="c")
        cid = created["Id"]
        conn = client.attach("c", stdout=True, stderr=True)
        waiter = client.clone()
        resp = waiter.wait_response(cid, "next-exit")
        client.start(cid)
        frames = []
        demux = Demuxer()
        while data := conn.read1():
            frames += demux.feed(data)
        conn.close()
        assert frames == [(1, b"hello\n")]
        assert b'"StatusCode": 0' in resp.read()
        waiter.close()
        assert client.inspect_container("c")["State"]["Running"] is False
        assert [c["Id"] for c in client.containers(all=True)] == [cid]
        logs = client.logs("c", tail="1", timestamps=True).read()
        assert logs.endswith(b"hello\n") and logs[0] == 1
        assert client.wait("c") == {"StatusCode": 0, "Error": None}
        client.remove_container("c", force=True, volumes=True)
        with pytest.raises(errdefs.NotFound, match="No such container: c"):
            client.inspect_container("c")


def test_stop_kill_restart_resize_prune(engine: FakeEngine) -> None:
    with APIClient(engine.docker_host) as client:
        cid = client.create_container(_body(["sleep", "30"]))["Id"]
        client.start(cid)
        client.resize(cid, 24, 80)
        client.restart(cid, timeout=1)
        client.kill(cid, "SIGINT")
        with pytest.raises(errdefs.Conflict, match="is not running"):
            client.kill(cid)
        client.start(cid)
        client.stop(cid, timeout=0, signal="SIGTERM")
        assert client.prune_containers({"until": ["1h"]}) == {"ContainersDeleted": [cid], "SpaceReclaimed": 0}
    paths = [(m, p.rsplit("/", 1)[-1], q) for m, p, q, _ in engine.requests if "/containers/" in p]
    assert ("POST", "resize", {"h": ["24"], "w": ["80"]}) in paths
    assert ("POST", "stop", {"t": ["0"], "signal": ["SIGTERM"]}) in paths
    assert ("POST", "prune", {"filters": ['{"until":["1h"]}']}) in paths


def test_create_errors_are_errdefs(engine: FakeEngine) -> None:
    with APIClient(engine.docker_host) as client:
        with pytest.raises(errdefs.NotFound, match="No such image: nope:latest"):
            client.create_container({"Image": "nope"})
        client.create_container({"Image": "busybox"}, name="n", platform="linux/amd64")
        with pytest.raises(errdefs.Conflict, match="already in use"):
            client.create_container({"Image": "busybox"}, name="n")
    _, query, _ = engine.find("POST", "/containers/create")[-2]
    assert query == {"name": ["n"], "platform": ["linux/amd64"]}
