"""Container lookup (id, prefix, name) and name conflicts; json-file log reading and rotation."""

from __future__ import annotations

import json
import os

import pytest

from sampan.api import stdcopy
from sampan.daemon.containers.logs import LogCursor, LogOptions, parse_tail
from sampan.daemon.containers.record import ContainerRecord
from sampan.daemon.containers.store import ContainerStore
from sampan.errdefs import Conflict, InvalidArgument, NotFound


def _rec(cid: str, name: str, root: str) -> ContainerRecord:
    return ContainerRecord(id=cid, name=name, created="", created_ns=0, image_id="", image_name="", path="true",
                           args=[], config={}, host_config={}, image_config={}, driver="",
                           dir=os.path.join(root, cid))


def test_lookup_and_conflict(tmp_path: object) -> None:
    store = ContainerStore(str(tmp_path))
    a, b = _rec("ab" + "0" * 62, "one", str(tmp_path)), _rec("ac" + "0" * 62, "two", str(tmp_path))
    for r in (a, b):
        store.reserve(r.name, r.id)
        store.add(r)
    assert store.get("one") is a and store.get("/two") is b and store.get("ab") is a and store.get(a.id) is a
    with pytest.raises(InvalidArgument, match="multiple IDs"):
        store.get("a")
    with pytest.raises(NotFound, match="No such container: zz"):
        store.get("zz")
    with pytest.raises(Conflict) as info:
        store.reserve("one", "f" * 64)
    assert str(info.value) == (f'Conflict. The container name "/one" is already in use by container "{a.id}". '
                               "You have to remove (or rename) that container to be able to reuse that name.")
    store.drop(a)
    store.reserve("one", "f" * 64)


def _write(path: str, lines: list[tuple[str, str, str]]) -> None:
    with open(path, "a") as f:
        for stream, text, t in lines:
            f.write(json.dumps({"log": text, "stream": stream, "time": t}) + "\n")


def test_logs_history_rotation_tail_and_follow(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "c-json.log")
    _write(path + ".1", [("stdout", "old\n", "2024-01-01T00:00:01Z")])
    _write(path, [("stderr", "err\n", "2024-01-01T00:00:02Z"), ("stdout", "new\n", "2024-01-01T00:00:03.5Z")])
    cur = LogCursor(path, LogOptions())
    entries = [e for batch in cur.history() for e in batch]
    assert [e.text for e in entries] == [b"old\n", b"err\n", b"new\n"]
    data = cur.encode(entries)
    assert data.startswith(stdcopy.frame(1, b"old\n")) and stdcopy.frame(2, b"err\n") in data
    _write(path, [("stdout", "more\n", "2024-01-01T00:00:04Z")])
    assert [e.text for e in cur.read_new()] == [b"more\n"]
    os.rename(path, path + ".2")  # rotation: the live file is replaced
    _write(path, [("stdout", "after\n", "2024-01-01T00:00:05Z")])
    assert [e.text for e in cur.read_new()] == [b"after\n"]
    cur.close()
    tail = LogCursor(path + ".2", LogOptions(tail=1, stderr=False, timestamps=True, tty=True))
    assert tail.encode(next(tail.history())) == b"2024-01-01T00:00:04Z more\n"
    tail.close()
    since = LogCursor(path + ".2", LogOptions(since=1704067203.0))
    assert [e.text for b in since.history() for e in b] == [b"new\n", b"more\n"]
    since.close()
    assert parse_tail("all") == -1 and parse_tail("5") == 5


def test_tail_reads_backwards_across_rotated_files(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "c-json.log")
    _write(path + ".2", [("stdout", f"a{i}\n", "2024-01-01T00:00:01Z") for i in range(3)])
    _write(path + ".1", [("stderr", f"b{i}\n", "2024-01-01T00:00:02Z") for i in range(3)])
    _write(path, [("stdout", f"c{i}\n", "2024-01-01T00:00:03Z") for i in range(5000)])
    cur = LogCursor(path, LogOptions(tail=5003, stderr=False))
    texts = [e.text for e in next(cur.history())]
    assert texts[:3] == [b"a0\n", b"a1\n", b"a2\n"] and texts[-1] == b"c4999\n" and len(texts) == 5003
    _write(path, [("stdout", "d\n", "2024-01-01T00:00:04Z")])
    assert [e.text for e in cur.read_new()] == [b"d\n"]  # the cursor stood at the live end
    cur.close()
    everything = LogCursor(path, LogOptions())
    batches = list(everything.history())
    assert sum(len(b) for b in batches) == 6 + 5001
    everything.close()
    assert next(LogCursor(path, LogOptions(tail=0)).history()) == []
