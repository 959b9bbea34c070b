"""A container's filesystem seen from outside: `docker diff` (its rw layer against what lies
below) and `docker export` (its whole rootfs as a tar)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

from sampan import errdefs
from sampan.daemon.containers import layers
from sampan.daemon.containers import state as st
from sampan.daemon.containers.lifecycle import Lifecycle
from sampan.daemon.containers.record import ContainerRecord
from sampan.errdefs import NotImplementedFeature
from sampan.snapshot.mount import is_mounted
from sampan.snapshot.types import Mount

MODIFIED, ADDED, DELETED = 0, 1, 2


def _overlay_dirs(mounts: list[Mount]) -> tuple[str, list[str]]:
    """(upperdir, lowerdirs) of an overlay rw layer; a lone bind is an upper with no lowers."""
    if len(mounts) == 1 and mounts[0].type == "bind":
        return mounts[0].source, []
    if len(mounts) != 1 or mounts[0].type != "overlay":
        raise NotImplementedFeature("container changes are only computed for overlay layers")
    opts = dict(o.split("=", 1) for o in mounts[0].options if "=" in o)
    return opts["upperdir"], [d for d in opts.get("lowerdir", "").split(":") if d]


def changes(mounts: list[Mount]) -> list[dict[str, Any]]:
    """Docker's ContainerChangeResponseItem list: Kind 0 modified, 1 added, 2 deleted."""
    upper, lowers = _overlay_dirs(mounts)

    def in_lower(rel: str) -> bool:
        return any(os.path.lexists(os.path.join(lower, rel)) for lower in lowers)

    out: list[dict[str, Any]] = []
    for root, dirs, files in os.walk(upper):
        for name in sorted(dirs) + sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, upper)
            st = os.lstat(path)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                kind = DELETED
            elif in_lower(rel):
                kind = MODIFIED
            else:
                kind = ADDED
            out.append({"Path": "/" + rel, "Kind": kind})
        dirs.sort()
    return sorted(out, key=lambda c: c["Path"])


def export(rootfs: str, out: BinaryIO) -> None:
    """The mounted rootfs as an uncompressed tar (whiteouts are not visible in a merged view)."""
    from sampan.archive.write import write_layer

    write_layer(rootfs, out)


class ContainerFS:
    """Views of containers' filesystems for the service: diff, export, archive, GraphDriver."""

    def __init__(self, snapshots: layers.LayerStore, lifecycle: Lifecycle) -> None:
        self.snapshots = snapshots
        self.lifecycle = lifecycle

    def changes(self, rec: ContainerRecord) -> list[dict[str, Any]]:
        return changes(self.snapshots.mounts(rec.id))

    def export(self, rec: ContainerRecord, out: BinaryIO) -> None:
        """Tar the container's rootfs to `out`, mounting it for the time if it does not run."""
        with self._rootfs(rec) as rootfs:
            export(rootfs, out)

    @contextlib.contextmanager
    def _rootfs(self, rec: ContainerRecord) -> Iterator[str]:
        """The container's rootfs, mounted for the time being if it is not running."""
        live = self.lifecycle.live(rec.id)
        with live.lock:
            was_mounted = is_mounted(rec.mount_point)
            layers.mount(self.snapshots, rec.id, rec.mount_point)
        try:
            yield rec.mount_point
        finally:
            with live.lock:
                if not was_mounted and not st.is_active(rec.state.status):
                    layers.unmount(rec.mount_point)

    def archive_stat(self, rec: ContainerRecord, path: str) -> dict[str, Any]:
        from sampan.daemon.containers import copying

        with self._rootfs(rec) as rootfs:
            return copying.path_stat(rootfs, path, rec.id)

    def archive_get(self, rec: ContainerRecord, path: str, out: BinaryIO) -> None:
        from sampan.daemon.containers import copying

        with self._rootfs(rec) as rootfs:
            copying.write_tar(rootfs, path, rec.id, out)

    def archive_put(self, rec: ContainerRecord, path: str, stream: BinaryIO) -> None:
        from sampan.daemon.containers import copying

        if rec.host_config.get("ReadonlyRootfs"):
            raise errdefs.Forbidden("container rootfs is marked read-only")
        with self._rootfs(rec) as rootfs:
            copying.extract_tar(rootfs, path, rec.id, stream)

    def graph_data(self, rec: ContainerRecord) -> dict[str, str]:
        """Docker's overlay2 GraphDriver.Data: the layer directories of the rootfs."""
        try:
            mounts = self.snapshots.mounts(rec.id)
        except errdefs.SampanError:
            return {}
        if len(mounts) != 1 or mounts[0].type != "overlay":
            return {}
        opts = dict(o.split("=", 1) for o in mounts[0].options if "=" in o)
        names = {"lowerdir": "LowerDir", "upperdir": "UpperDir", "workdir": "WorkDir"}
        return {names[k]: v for k, v in opts.items() if k in names}
