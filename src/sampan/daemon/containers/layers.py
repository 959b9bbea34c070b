"""A container's filesystem: the init layer (Docker's mount points) and the rw layer on top.

Snapshot keys: `<id>-init-rw` (active, then committed as `<id>-init`) and `<id>` (the rw
layer). The rootfs is mounted at start on the bundle's `rootfs` and unmounted at exit.
"""

from __future__ import annotations

import logging
import os

from sampan.errdefs import NotFound
from sampan.snapshot import mount_all, unmount_all
from sampan.snapshot.types import Snapshotter

log = logging.getLogger(__name__)

# What Docker's init layer holds: mount targets, so the runtime never has to create them in
# the image's layers (and an image symlink cannot redirect them).
INIT_DIRS = ("dev/pts", "dev/shm", "proc", "sys", "etc")
INIT_FILES = ("dev/console", "etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv")


def _init_key(cid: str) -> str:
    return f"{cid}-init"


def create(snapshots: Snapshotter, cid: str, parent: str | None) -> None:
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


def remove(snapshots: Snapshotter, cid: str) -> None:
    for key in (cid, _init_key(cid), f"{cid}-init-rw"):
        _remove_quietly(snapshots, key)


def _remove_quietly(snapshots: Snapshotter, key: str) -> None:
    try:
        if snapshots.exists(key):
            snapshots.remove(key)
    except NotFound:
        pass


def mount(snapshots: Snapshotter, cid: str, target: str) -> None:
    from sampan.snapshot.mount import is_mounted

    os.makedirs(target, mode=0o755, exist_ok=True)
    if not is_mounted(target):
        mount_all(snapshots.mounts(cid), target)


def unmount(target: str) -> None:
    if os.path.isdir(target):
        unmount_all(target)
