"""Snapshotters: layer directories and the mounts (as data) that stack them into a rootfs."""

from __future__ import annotations

import os

from sampan.errdefs import InvalidArgument
from sampan.snapshot.metastore import MetaStore
from sampan.snapshot.mount import mount_all, overlay_supported, unmount_all
from sampan.snapshot.native import NativeSnapshotter
from sampan.snapshot.overlay import OverlaySnapshotter
from sampan.snapshot.types import Mount, SnapshotInfo, Snapshotter

__all__ = [
    "Mount",
    "NativeSnapshotter",
    "OverlaySnapshotter",
    "SnapshotInfo",
    "Snapshotter",
    "mount_all",
    "new_snapshotter",
    "unmount_all",
]

_DRIVERS: dict[str, type[OverlaySnapshotter] | type[NativeSnapshotter]] = {
    "overlay": OverlaySnapshotter,
    "overlay2": OverlaySnapshotter,
    "native": NativeSnapshotter,
    "vfs": NativeSnapshotter,
}


def new_snapshotter(root: str, driver: str = "auto") -> Snapshotter:
    """Open the snapshotter at `root`. "auto" keeps the driver a root was made with, else
    picks overlay when overlayfs actually mounts on `root`'s filesystem, else native."""
    os.makedirs(root, mode=0o700, exist_ok=True)
    if driver == "auto":
        driver = _recorded_driver(root) or ("overlay" if overlay_supported(root) else "native")
    cls = _DRIVERS.get(driver)
    if cls is None:
        raise InvalidArgument(f"unknown storage driver {driver!r} (use auto, overlay or native)")
    return cls(root)


def _recorded_driver(root: str) -> str | None:
    path = os.path.join(root, "metadata.db")
    if not os.path.exists(path):
        return None
    meta = MetaStore(path)
    try:
        return meta.get_meta("driver")
    finally:
        meta.close()
