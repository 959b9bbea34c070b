"""A three-layer chain with whiteouts and an opaque dir, mounted for real (overlay and native)."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sampan.archive import apply_layer
from sampan.errdefs import NotFound
from sampan.snapshot import Snapshotter, mount_all, new_snapshotter, unmount_all
from sampan.snapshot.mount import is_mounted
from tests.support.images import Entry, compress, tar_bytes

pytestmark = pytest.mark.root

LAYERS = [
    [
        Entry("etc", "dir"),
        Entry("etc/keep", data=b"keep"),
        Entry("etc/gone", data=b"gone"),
        Entry("olddir", "dir"),
        Entry("olddir/sub", "dir"),
        Entry("olddir/sub/f", data=b"f"),
        Entry("opq", "dir"),
        Entry("opq/lower", data=b"lower"),
        Entry("opq/lowersub", "dir"),
        Entry("opq/lowersub/x", data=b"x"),
    ],
    [
        Entry("etc", "dir"),
        Entry("etc/.wh.gone"),
        Entry("etc/added", data=b"added"),
        Entry("opq", "dir"),
        Entry("opq/middle", data=b"middle"),
    ],
    [
        Entry(".wh.olddir"),
        Entry("opq", "dir"),
        Entry("opq/.wh..wh..opq"),
        Entry("opq/top", data=b"top"),
        Entry("etc/keep", data=b"keep v3"),
    ],
]


@pytest.fixture(params=["overlay", "native"])
def sn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Snapshotter]:
    s = new_snapshotter(str(tmp_path / "snapshots"), request.param)
    yield s
    s.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    t = tmp_path / "rootfs"
    t.mkdir()
    yield str(t)
    unmount_all(str(t))


def _build_chain(sn: Snapshotter) -> str:
    parent = None
    for i, entries in enumerate(LAYERS):
        key = f"extract-{i}"
        sn.prepare(key, parent)
        path, whiteouts = sn.apply_dir(key)
        blob = compress(tar_bytes(entries), "gzip")
        apply_layer(io.BytesIO(blob), path, compression="gzip", whiteouts=whiteouts)
        sn.commit(f"layer{i}", key)
        parent = f"layer{i}"
    assert parent is not None
    return parent


def _check_merged(root: str) -> None:
    assert sorted(os.listdir(root)) == ["etc", "opq"]
    assert sorted(os.listdir(f"{root}/etc")) == ["added", "keep"]
    assert Path(root, "etc/keep").read_bytes() == b"keep v3"
    assert sorted(os.listdir(f"{root}/opq")) == ["top"]


def test_chain_merged_view(sn: Snapshotter, target: str) -> None:
    top = _build_chain(sn)
    mounts = sn.prepare("container", top)
    mount_all(mounts, target)
    assert is_mounted(target)
    _check_merged(target)
    Path(target, "etc/written").write_bytes(b"rw layer")
    os.unlink(f"{target}/etc/added")
    unmount_all(target)
    assert not is_mounted(target)
    # The committed layers are untouched by writes in the container layer.
    view = sn.view("check", top)
    mount_all(view, target)
    try:
        _check_merged(target)
        with pytest.raises(OSError):
            Path(target, "etc/ro").write_bytes(b"x")  # views are read-only
    finally:
        unmount_all(target)
    sn.remove("check")
    sn.remove("container")
    for i in reversed(range(len(LAYERS))):
        sn.remove(f"layer{i}")
    assert os.listdir(os.path.join(sn.root, "snapshots")) == []


def test_overlay_whiteout_representation(tmp_path: Path) -> None:
    sn = new_snapshotter(str(tmp_path / "s"), "overlay")
    try:
        _build_chain(sn)
        upper2 = sn.mounts("layer1")[0].options[0].split("=", 1)[1].split(":")[0]
        st = os.lstat(f"{upper2}/etc/gone")
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
        upper3 = sn.mounts("layer2")[0].options[0].split("=", 1)[1].split(":")[0]
        assert os.getxattr(f"{upper3}/opq", "trusted.overlay.opaque") == b"y"
        assert not os.path.lexists(f"{upper3}/opq/.wh..wh..opq")
        assert stat.S_ISCHR(os.lstat(f"{upper3}/olddir").st_mode)
    finally:
        sn.close()


def test_auto_picks_overlay_here(tmp_path: Path) -> None:
    s = new_snapshotter(str(tmp_path / "auto"), "auto")
    try:
        assert s.driver_name == "overlay2"  # ext4 as root: overlayfs mounts
        assert [n for n in os.listdir(s.root) if n.startswith(".overlay-probe")] == []
    finally:
        s.close()


def test_busybox_rootfs_runs(sn: Snapshotter, target: str) -> None:
    """A real rootfs from a busybox layer plus a layer that deletes an applet."""
    import subprocess

    from tests.support.images import busybox_entries

    layers = [busybox_entries(), [Entry("bin", "dir", mode=0o755), Entry("bin/.wh.false"), Entry("hi", data=b"hi\n")]]
    parent = None
    for i, entries in enumerate(layers):
        sn.prepare(f"x{i}", parent)
        path, whiteouts = sn.apply_dir(f"x{i}")
        apply_layer(io.BytesIO(compress(tar_bytes(entries), "zstd")), path, compression="zstd", whiteouts=whiteouts)
        sn.commit(f"bb{i}", f"x{i}")
        parent = f"bb{i}"
    mount_all(sn.prepare("run", parent), target)
    out = subprocess.run(["chroot", target, "/bin/cat", "/hi"], capture_output=True, check=True).stdout
    assert out == b"hi\n"
    assert not os.path.lexists(f"{target}/bin/false")
    assert os.path.islink(f"{target}/bin/true")
    unmount_all(target)
    for key in ("run", "bb1", "bb0"):
        sn.remove(key)


def test_native_copy_preserves_everything(tmp_path: Path) -> None:
    sn = new_snapshotter(str(tmp_path / "n"), "native")
    try:
        sn.prepare("x", None)
        base, _ = sn.apply_dir("x")
        apply_layer(
            io.BytesIO(
                tar_bytes(
                    [
                        Entry("dev", "dir"),
                        Entry("dev/null", "char", mode=0o666, devmajor=1, devminor=3),
                        Entry("f", data=b"x", uid=123, gid=456, mode=0o4750),
                        Entry("h", "hardlink", target="f", uid=123, gid=456, mode=0o4750),
                        Entry("d", "dir", uid=7, gid=8, mode=0o1777, mtime=1_234_567_890),
                    ]
                )
            ),
            base,
            compression="",
            whiteouts="native",
        )
        os.setxattr(f"{base}/f", "security.capability", b"\x01\x00\x00\x02" + bytes(16))
        os.setxattr(f"{base}/f", "trusted.note", b"t")
        sn.commit("L", "x")
        sn.prepare("c", "L")
        copy, _ = sn.apply_dir("c")
        null = os.lstat(f"{copy}/dev/null")
        assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3)
        f = os.lstat(f"{copy}/f")
        assert (f.st_uid, f.st_gid, f.st_mode & 0o7777, f.st_nlink) == (123, 456, 0o4750, 2)
        assert os.lstat(f"{copy}/h").st_ino == f.st_ino
        assert os.getxattr(f"{copy}/f", "security.capability").startswith(b"\x01\x00\x00\x02")
        assert os.getxattr(f"{copy}/f", "trusted.note") == b"t"
        d = os.lstat(f"{copy}/d")
        assert (d.st_uid, d.st_gid, d.st_mode & 0o7777, int(d.st_mtime)) == (7, 8, 0o1777, 1_234_567_890)
        sn.remove("c")
        sn.remove("L")
    finally:
        sn.close()


def test_layers_unpacked_apart_then_stacked(tmp_path: Path, target: str) -> None:
    """overlay: all layers unpacked at once without parents, committed onto them in order."""
    sn = new_snapshotter(str(tmp_path / "detached"), "overlay")
    try:
        assert sn.independent_layers
        for i, entries in reversed(list(enumerate(LAYERS))):  # unpack order does not matter
            sn.prepare(f"extract-{i}", None)
            path, whiteouts = sn.apply_dir(f"extract-{i}")
            apply_layer(io.BytesIO(tar_bytes(entries)), path, compression="", whiteouts=whiteouts)
        with pytest.raises(NotFound):  # the parent must be committed first
            sn.commit_onto("layer1", "extract-1", "layer0")
        parent = None
        for i in range(len(LAYERS)):
            sn.commit_onto(f"layer{i}", f"extract-{i}", parent)
            parent = f"layer{i}"
        assert sn.stat("layer2").parent == "layer1"
        mount_all(sn.view("check", "layer2"), target)
        try:
            _check_merged(target)
        finally:
            unmount_all(target)
    finally:
        sn.close()
