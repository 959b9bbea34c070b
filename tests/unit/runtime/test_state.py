"""State is derived from facts: pid liveness with start time, the exec fifo, a state file."""

from __future__ import annotations

import os
from typing import Any

import pytest

from sampan.errdefs import AlreadyExists, InvalidArgument, NotFound
from sampan.runtime.state import Container, ContainerState, list_ids, proc_start_time, validate_id


def _state(cid: str, pid: int, start: int) -> ContainerState:
    return ContainerState(id=cid, pid=pid, bundle="/b", rootfs="/b/rootfs", created="t", start_time=start,
                          spec={"ociVersion": "1.0.2"})


def test_transitions(tmp_path: Any) -> None:
    root = str(tmp_path)
    c = Container.create_dir(root, "c1")
    assert c.status() == "creating"
    with pytest.raises(AlreadyExists):
        Container.create_dir(root, "c1")
    me = os.getpid()
    start = proc_start_time(me)
    assert start is not None
    os.mkfifo(c.fifo)
    c.save(_state("c1", me, start))
    assert c.status() == "created"
    os.unlink(c.fifo)
    assert Container.load(root, "c1").status() == "running"
    c.save(_state("c1", me, start + 1))  # same pid, other start time: a recycled pid
    assert c.status() == "stopped"
    assert c.oci_state()["pid"] == 0
    assert list_ids(root) == ["c1"]
    c.remove()
    assert list_ids(root) == []
    with pytest.raises(NotFound, match='container "c1" does not exist'):
        Container.load(root, "c1")


def test_dead_pid_is_stopped(tmp_path: Any) -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    start = proc_start_time(pid) or 1
    os.waitpid(pid, 0)
    c = Container.create_dir(str(tmp_path), "c2")
    c.save(_state("c2", pid, start))
    assert c.status() == "stopped"


def test_oci_state_document(tmp_path: Any) -> None:
    c = Container.create_dir(str(tmp_path), "c3")
    st = _state("c3", os.getpid(), proc_start_time(os.getpid()) or 0)._replace(annotations={"a": "b"})
    c.save(st)
    doc = c.oci_state()
    assert doc == {"ociVersion": "1.0.2-dev", "id": "c3", "pid": os.getpid(), "status": "running", "bundle": "/b",
                   "rootfs": "/b/rootfs", "created": "t", "owner": "", "annotations": {"a": "b"}}


@pytest.mark.parametrize("bad", ["", "a/b", "..", "a b", "x;y"])
def test_bad_ids(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_id(bad)


def test_corrupt_state(tmp_path: Any) -> None:
    from sampan.errdefs import DataLoss
    from sampan.runtime.manage import delete

    c = Container.create_dir(str(tmp_path), "bad")
    with open(os.path.join(c.dir, "state.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(DataLoss, match=r"unreadable state\.json"):
        Container.load(str(tmp_path), "bad").status()
    with pytest.raises(DataLoss):
        delete(Container.load(str(tmp_path), "bad"))
    delete(Container.load(str(tmp_path), "bad"), force=True)
    assert list_ids(str(tmp_path)) == []
