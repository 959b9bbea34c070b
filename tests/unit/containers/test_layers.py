"""The rootfs mount of a start: overlay and bind by mount(2) (recorded here), others by helper."""

from __future__ import annotations

import os

from sampan.daemon.containers import layers
from sampan.linux.syscalls import MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, RecordingSyscalls
from sampan.snapshot.types import Mount, SnapshotInfo


class FakeSnapshots:
    def __init__(self, mounts: list[Mount]) -> None:
        self._mounts = mounts

    def mounts(self, key: str) -> list[Mount]:
        return self._mounts


def test_overlay_by_syscall(tmp_path: object) -> None:
    target = os.path.join(str(tmp_path), "rootfs")
    sys = RecordingSyscalls()
    opts = ["index=off", "lowerdir=/l", "upperdir=/u", "workdir=/w"]
    layers.mount(FakeSnapshots([Mount("overlay", "overlay", opts)]), "c", target, sys)
    assert sys.of("mount") == [("overlay", target, "overlay", 0, ",".join(opts))]
    assert os.path.isdir(target)


def test_readonly_bind(tmp_path: object) -> None:
    target = os.path.join(str(tmp_path), "rootfs")
    sys = RecordingSyscalls()
    layers.mount(FakeSnapshots([Mount("bind", "/snap/fs", ["rbind", "ro"])]), "c", target, sys)
    assert sys.of("mount") == [("/snap/fs", target, None, MS_BIND | MS_REC, None),
                               (None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)]


def test_unmount_of_nothing_mounted(tmp_path: object) -> None:
    sys = RecordingSyscalls()
    layers.unmount(str(tmp_path), sys)
    layers.unmount(os.path.join(str(tmp_path), "missing"), sys)
    assert sys.calls == []


class WalkSnapshots:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def walk(self) -> list[SnapshotInfo]:
        return [SnapshotInfo(n, None, "active", 0.0) for n in self.names]


def test_orphans() -> None:
    a, b = "a" * 64, "b" * 64
    snaps = WalkSnapshots([f"sha256:{'c' * 64}", a, f"{a}-init", f"{b}-init-rw", "extract-1"])
    assert layers.orphans(snaps, {a}) == {b}


def test_system_cpu_usage(tmp_path: object) -> None:
    from sampan.daemon.containers import stats

    path = os.path.join(str(tmp_path), "stat")
    with open(path, "w") as f:
        f.write("cpu  100 0 50 850 0 0 0 0 0 0\ncpu0 100 0 50 850 0 0 0 0 0 0\n")
    assert stats.system_cpu_usage(path) == 1000 * 1_000_000_000 // stats._CLK_TCK
    assert stats.empty_stats()["read"] == stats.ZERO_READ
