"""Snapshotters as data: lifecycle, mounts, errors and crash recovery (no mounting here)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sampan.archive import apply_layer
from sampan.errdefs import AlreadyExists, Conflict, InvalidArgument, NotFound
from sampan.snapshot import Mount, Snapshotter, new_snapshotter
from sampan.snapshot.mount import mount_argv
from tests.support.images import Entry, tar_bytes


@pytest.fixture(params=["overlay", "native"])
def sn(request: pytest.FixtureRequest, tmp_path: Path) -> Snapshotter:
    s = new_snapshotter(str(tmp_path / "snaps"), request.param)
    request.addfinalizer(s.close)
    return s


def _layer(sn: Snapshotter, key: str, parent: str | None, entries: list[Entry]) -> None:
    sn.prepare(f"extract-{key}", parent)
    path, whiteouts = sn.apply_dir(f"extract-{key}")
    if whiteouts == "overlay":
        entries = [e for e in entries if ".wh." not in e.path]  # overlay whiteouts need root
    apply_layer(io.BytesIO(tar_bytes(entries)), path, compression="", whiteouts=whiteouts)
    sn.commit(key, f"extract-{key}")


def test_lifecycle(sn: Snapshotter) -> None:
    _layer(sn, "L1", None, [Entry("a", data=b"1")])
    _layer(sn, "L2", "L1", [Entry("b", data=b"2")])
    sn.prepare("ctr", "L2")
    info = sn.stat("L2")
    assert (info.name, info.parent, info.kind) == ("L2", "L1", "committed")
    assert sn.stat("ctr").kind == "active"
    assert sn.exists("L1") and not sn.exists("nope")
    assert [i.name for i in sn.walk()] == ["L1", "L2", "ctr"]
    assert sn.usage("L1") > 0
    with pytest.raises(Conflict):
        sn.remove("L2")
    sn.remove("ctr")
    sn.remove("L2")
    sn.remove("L1")
    assert list(sn.walk()) == []
    assert os.listdir(os.path.join(sn.root, "snapshots")) == []


def test_errors(sn: Snapshotter) -> None:
    with pytest.raises(NotFound, match="snapshot nope does not exist"):
        sn.stat("nope")
    with pytest.raises(NotFound):
        sn.prepare("x", "nope")
    sn.prepare("a", None)
    with pytest.raises(AlreadyExists):
        sn.prepare("a", None)
    with pytest.raises(InvalidArgument, match="not committed"):
        sn.prepare("b", "a")
    sn.commit("A", "a")
    with pytest.raises(NotFound):
        sn.commit("B", "a")
    with pytest.raises(InvalidArgument):
        sn.apply_dir("A")
    sn.prepare("c", None)
    with pytest.raises(AlreadyExists):
        sn.commit("A", "c")
    assert sn.stat("c").kind == "active"  # a failed commit changes nothing
    with pytest.raises(NotFound):
        sn.remove("nope")


def test_overlay_mounts(tmp_path: Path) -> None:
    sn = new_snapshotter(str(tmp_path / "o"), "overlay")
    assert sn.driver_name == "overlay2"
    for i, parent in enumerate([None, "L0", "L1"]):
        sn.prepare(f"x{i}", parent)
        sn.commit(f"L{i}", f"x{i}")
    fs = {k: sn.mounts(k) for k in ("L0", "L1")}
    assert fs["L0"][0].type == "bind"
    assert fs["L0"][0].source.endswith("/fs")
    assert fs["L0"][0].options == ["ro", "rbind"]
    assert fs["L1"][0].type == "overlay"
    m = sn.prepare("ctr", "L2")
    assert m[0].type == "overlay"
    opts = dict(o.split("=", 1) for o in m[0].options)
    lowers = opts["lowerdir"].split(":")
    assert len(lowers) == 3 and all(lw.endswith("/fs") for lw in lowers)
    assert opts["upperdir"] == sn.apply_dir("ctr")[0]
    assert sn.apply_dir("ctr")[1] == "overlay"
    v = sn.view("v1", "L0")
    assert v == [Mount("bind", lowers[2], ["ro", "rbind"])]
    v = sn.view("v2", "L2")
    assert v[0].type == "overlay" and v[0].options == [f"lowerdir={opts['lowerdir']}"]
    root = sn.prepare("base", None)
    assert root[0].type == "bind" and root[0].options == ["rw", "rbind"]
    sn.close()


def test_native_copies_parent(tmp_path: Path) -> None:
    sn = new_snapshotter(str(tmp_path / "n"), "native")
    assert sn.driver_name == "vfs"
    entries = [Entry("a", data=b"1"), Entry("h", "hardlink", target="a"), Entry("s", "symlink", target="a")]
    _layer(sn, "L1", None, entries)
    sn.prepare("ctr", "L1")
    path, mode = sn.apply_dir("ctr")
    assert mode == "native"
    assert sorted(os.listdir(path)) == ["a", "h", "s"]
    assert os.stat(os.path.join(path, "a")).st_ino == os.stat(os.path.join(path, "h")).st_ino
    assert os.readlink(os.path.join(path, "s")) == "a"
    with open(os.path.join(path, "a"), "ab") as f:
        f.write(b"changed")
    l1 = sn.mounts("L1")[0].source
    with open(os.path.join(l1, "a"), "rb") as f:
        assert f.read() == b"1"  # the parent is untouched
    assert sn.mounts("ctr") == [Mount("bind", path, ["rw", "rbind"])]
    assert sn.view("v", "L1") == [Mount("bind", l1, ["ro", "rbind"])]
    sn.close()


def test_driver_is_recorded(tmp_path: Path) -> None:
    root = str(tmp_path / "r")
    new_snapshotter(root, "native").close()
    with pytest.raises(InvalidArgument, match="native driver"):
        new_snapshotter(root, "overlay")
    s = new_snapshotter(root, "auto")
    assert s.driver_name == "vfs"
    s.close()
    with pytest.raises(InvalidArgument):
        new_snapshotter(str(tmp_path / "x"), "zfs")


def test_reopen_keeps_records_and_drops_orphans(tmp_path: Path) -> None:
    root = str(tmp_path / "r")
    s = new_snapshotter(root, "native")
    _layer(s, "L1", None, [Entry("a", data=b"1")])
    s.prepare("left-active", "L1")
    s.close()
    orphan = os.path.join(root, "snapshots", "999")
    os.makedirs(os.path.join(orphan, "fs"))
    s = new_snapshotter(root, "native")
    assert [i.name for i in s.walk()] == ["L1", "left-active"]
    assert not os.path.exists(orphan)
    s.close()


def test_sigkill_during_prepare_reopens_consistently(tmp_path: Path) -> None:
    """Kill a process while it copies a big parent: reopening leaves no half snapshot."""
    root = str(tmp_path / "r")
    s = new_snapshotter(root, "native")
    _layer(s, "L1", None, [Entry(f"d/f{i}", data=os.urandom(2048)) for i in range(3000)])
    s.close()
    script = textwrap.dedent(
        f"""
        import sys
        from sampan.snapshot import new_snapshotter
        s = new_snapshotter({root!r}, "native")
        print("ready", flush=True)
        for i in range(100):
            s.prepare(f"c{{i}}", "L1")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    s = new_snapshotter(root, "native")
    names = [i.name for i in s.walk()]
    dirs = sorted(os.listdir(os.path.join(root, "snapshots")))
    assert len(dirs) == len(names)  # every dir has a record, every record a dir
    for name in names[1:]:
        assert len(os.listdir(os.path.join(s.apply_dir(name)[0], "d"))) == 3000
        s.remove(name)
    s.close()


def test_mount_argv() -> None:
    argv = mount_argv(Mount("bind", "/src", ["ro", "rbind"]), "/t")
    assert argv[-3:] == ["ro,rbind", "/src", "/t"] and "-t" not in argv
    argv = mount_argv(Mount("overlay", "overlay", ["lowerdir=/a:/b"]), "/t")
    assert argv[-6:] == ["-t", "overlay", "-o", "lowerdir=/a:/b", "overlay", "/t"]


def test_parent_removed_during_prepare_fails_cleanly(tmp_path: Path) -> None:
    """A concurrent remove of the parent makes prepare fail instead of leaving an orphan child."""
    from sampan.snapshot.native import NativeSnapshotter

    class Racy(NativeSnapshotter):
        def _populate(self, path: str, parent: object, kind: str) -> None:
            if parent is not None:
                self.remove("L1")  # the parent goes away while we copy it

    s = Racy(str(tmp_path / "r"))
    _layer(s, "L1", None, [Entry("a", data=b"1")])
    with pytest.raises(NotFound, match="parent snapshot L1"):
        s.prepare("child", "L1")
    assert list(s.walk()) == []
    assert os.listdir(os.path.join(s.root, "snapshots")) == []
    s.close()


def test_overlay_option_page_limit(tmp_path: Path) -> None:
    from sampan.errdefs import System
    from sampan.snapshot import mount_all

    s = new_snapshotter(str(tmp_path / ("r" * 100)), "overlay")
    parent = None
    for i in range(40):
        s.prepare(f"x{i}", parent)
        s.commit(f"L{i}", f"x{i}")
        parent = f"L{i}"
    mounts = s.prepare("top", parent)  # unpacking needs no mount: always allowed
    with pytest.raises(System, match=r"cannot mount 40 layers.*exceed one page"):
        mount_all(mounts, str(tmp_path))  # refused before running mount(8)
    s.close()


def test_driver_status(tmp_path: Path) -> None:
    o = new_snapshotter(str(tmp_path / "o"), "overlay")
    status = dict(o.driver_status())  # type: ignore[attr-defined,unused-ignore]
    assert status["Backing Filesystem"] and status["Supports d_type"] == "true"
    o.close()
    n = new_snapshotter(str(tmp_path / "n"), "native")
    assert n.driver_status() == []  # type: ignore[attr-defined,unused-ignore]
    n.close()


def test_commit_onto_needs_an_independent_driver(sn: Snapshotter) -> None:
    _layer(sn, "base", None, [Entry("a", data=b"1")])
    sn.prepare("extract-top", None)
    if not sn.independent_layers:  # native copies the parent at prepare: no late stacking
        with pytest.raises(InvalidArgument):
            sn.commit_onto("top", "extract-top", "base")
        return
    with pytest.raises(NotFound):
        sn.commit_onto("top", "extract-top", "missing")
    sn.prepare("extract-other", "base")
    with pytest.raises(InvalidArgument):  # only a key prepared without a parent
        sn.commit_onto("other", "extract-other", "base")
    sn.commit_onto("top", "extract-top", "base")
    info = sn.stat("top")
    assert (info.parent, info.kind) == ("base", "committed")
    with pytest.raises(Conflict):
        sn.remove("base")
