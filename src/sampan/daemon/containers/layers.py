"""A container's filesystem: the init layer (Docker's mount points) and the rw layer on top.

Snapshot keys: `<id>-init-rw` (active, then committed as `<id>-init`) and `<id>` (the rw
layer). The rootfs is mounted at start on the bundle's `rootfs` and unmounted at exit.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Protocol

from sampan.errdefs import NotFound
from sampan.linux.syscalls import MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, Syscalls
from sampan.snapshot import mount_all, unmount_all
from sampan.snapshot.types import Mount, SnapshotInfo

log = logging.getLogger(__name__)

# What Docker's init layer holds: mount targets, so the runtime never has to create them in
# the image's layers (and an image symlink cannot redirect them).
INIT_DIRS = ("dev/pts", "dev/shm", "proc", "sys", "etc")
INIT_FILES = ("dev/console", "etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv")


def _init_key(cid: str) -> str:
    return f"{cid}-init"


def create(snapshots: LayerStore, cid: str, parent: str | None) -> None:
    """Prepare, fill and commit the init layer, then prepare the rw layer; undone on failure."""
    work = f"{cid}-init-rw"
    snapshots.prepare(work, parent)
    try:
        path, _ = snapshots.apply_dir(work)
        for d in INIT_DIRS:
            os.makedirs(os.path.join(path, d), mode=0o755, exist_ok=True)
        for name in INIT_FILES:
            target = os.path.join(path, name)
            if not os.path.lexists(target):
                with open(target, "w"):
                    pass
                os.chmod(target, 0o755 if name.startswith("dev/") else 0o644)
        snapshots.commit(_init_key(cid), work)
    except BaseException:
        _remove_quietly(snapshots, work)
        raise
    try:
        snapshots.prepare(cid, _init_key(cid))
    except BaseException:
        _remove_quietly(snapshots, _init_key(cid))
        raise


_CONTAINER_KEY = re.compile(r"^([0-9a-f]{64})(-init(-rw)?)?$")


def orphans(snapshots: HasWalk, known: set[str]) -> set[str]:
    """IDs of containers whose snapshots exist without a record (a create cut short by a crash)."""
    out = set()
    for info in snapshots.walk():
        m = _CONTAINER_KEY.match(info.name)
        if m and m.group(1) not in known:
            out.add(m.group(1))
    return out


def remove(snapshots: LayerStore, cid: str) -> None:
    for key in (cid, _init_key(cid), f"{cid}-init-rw"):
        _remove_quietly(snapshots, key)


def _remove_quietly(snapshots: LayerStore, key: str) -> None:
    try:
        if snapshots.exists(key):
            snapshots.remove(key)
    except NotFound:
        pass


class HasMounts(Protocol):
    def mounts(self, key: str) -> list[Mount]: ...


class HasWalk(Protocol):
    def walk(self) -> Iterable[SnapshotInfo]: ...


class LayerStore(HasMounts, HasWalk, Protocol):
    """The snapshotter methods a container's layers need (sampan.snapshot.Snapshotter has them)."""

    def prepare(self, key: str, parent: str | None) -> list[Mount]: ...

    def apply_dir(self, key: str) -> tuple[str, str]: ...

    def commit(self, name: str, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def remove(self, key: str) -> None: ...

    def usage(self, key: str) -> int: ...


def mount(snapshots: HasMounts, cid: str, target: str, sys: Syscalls | None = None) -> None:
    """Mount the rw layer's stack on `target`: overlay and bind by mount(2) directly (this is
    on every start), anything else through the snapshot package's helper."""
    from sampan.snapshot.mount import is_mounted

    os.makedirs(target, mode=0o755, exist_ok=True)
    if is_mounted(target):
        return
    mounts = snapshots.mounts(cid)
    if len(mounts) != 1 or mounts[0].type not in ("overlay", "bind") or len(",".join(mounts[0].options)) > 4095:
        mount_all(mounts, target)
        return
    m = mounts[0]
    sys = sys or Syscalls()
    if m.type == "overlay":
        sys.mount(m.source, target, "overlay", 0, ",".join(m.options))
        return
    sys.mount(m.source, target, None, MS_BIND | MS_REC)
    if "ro" in m.options:
        sys.mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def unmount(target: str, sys: Syscalls | None = None) -> None:
    from sampan.snapshot.mount import is_mounted

    if not os.path.isdir(target):
        return
    sys = sys or Syscalls()
    for _ in range(64):
        if not is_mounted(target):
            return
        try:
            sys.umount2(target, 0)
        except OSError:
            unmount_all(target)  # the helper reports why
            return
