"""A container's filesystem seen from outside: `docker diff` (its rw layer against what lies
below), and the views the copy helper enters for `docker export` (the rootfs alone) and
`docker cp` (a running container's own mount namespace, or a stopped one's rootfs with its
binds: see copying.py)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from sampan import errdefs
from sampan.daemon.containers import layers
from sampan.daemon.containers import state as st
from sampan.daemon.containers.lifecycle import Lifecycle
from sampan.daemon.containers.record import ContainerRecord
from sampan.daemon.containers.spec_mounts import user_mounts
from sampan.errdefs import NotImplementedFeature
from sampan.snapshot.mount import is_mounted
from sampan.snapshot.types import Mount

if TYPE_CHECKING:
    from sampan.daemon.containers import copying

MODIFIED, ADDED, DELETED = 0, 1, 2
_NETWORK_FILES = (("/etc/hosts", "hosts_path"), ("/etc/hostname", "hostname_path"),
                  ("/etc/resolv.conf", "resolv_conf_path"))


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
    # fwalk holds each directory open and never follows a symlink swapped in by the container
    for root, dirs, files, dir_fd in os.fwalk(upper):
        for name in dirs + files:
            rel = os.path.relpath(os.path.join(root, name), upper)
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
                kind = DELETED
            elif in_lower(rel):
                kind = MODIFIED
            else:
                kind = ADDED
            out.append({"Path": "/" + rel, "Kind": kind})
    return sorted(out, key=lambda c: c["Path"])


class ContainerFS:
    """Views of containers' filesystems for the service: diff, export, archive, GraphDriver."""

    def __init__(self, snapshots: layers.LayerStore, lifecycle: Lifecycle) -> None:
        self.snapshots = snapshots
        self.lifecycle = lifecycle

    def changes(self, rec: ContainerRecord) -> list[dict[str, Any]]:
        return changes(self.snapshots.mounts(rec.id))

    def export(self, rec: ContainerRecord, out: BinaryIO) -> None:
        """Tar the container's rootfs (its layers, no volumes) to `out`, mounting it for the
        time if it does not run; the helper chroots into it, so symlinks stay inside."""
        from sampan.daemon.containers import copying

        with self._rootfs(rec) as rootfs:
            copying.export(copying.FSView(rootfs=rootfs), rec.id, out)

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

    @contextlib.contextmanager
    def _view(self, rec: ContainerRecord) -> Iterator[copying.FSView]:
        """What the copy helper enters: a running container's own mount namespace (its binds
        and tmpfs mounts included), else its rootfs with its binds mounted again."""
        from sampan.daemon.containers import copying

        common = dict(volumes=_volumes(rec), readonly_rootfs=bool(rec.host_config.get("ReadonlyRootfs")),
                      user=str(rec.config.get("User") or ""))
        running = rec.state.status in (st.RUNNING, st.PAUSED) and rec.state.pid
        if running and os.path.exists(f"/proc/{rec.state.pid}/ns/mnt"):  # not exited meanwhile
            yield copying.FSView(pid=rec.state.pid, **common)  # type: ignore[arg-type]
            return
        with self._rootfs(rec) as rootfs:
            yield copying.FSView(rootfs=rootfs, binds=_binds(rec), **common)  # type: ignore[arg-type]

    def archive_stat(self, rec: ContainerRecord, path: str, ref: str = "") -> dict[str, Any]:
        from sampan.daemon.containers import copying

        with self._view(rec) as view:
            return copying.path_stat(view, ref or rec.id, path)

    def archive_get(self, rec: ContainerRecord, path: str, out: BinaryIO, ref: str = "") -> None:
        from sampan.daemon.containers import copying

        with self._view(rec) as view:
            copying.write_tar(view, ref or rec.id, path, out)

    def archive_put(self, rec: ContainerRecord, path: str, stream: BinaryIO, ref: str = "", *,
                    no_overwrite_dir_non_dir: bool = False, copy_uid_gid: bool = False) -> None:
        from sampan.daemon.containers import copying

        with self._view(rec) as view:
            copying.extract_tar(view, ref or rec.id, path, stream, no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
                                copy_uid_gid=copy_uid_gid)

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


def _volumes(rec: ContainerRecord) -> tuple[tuple[str, bool], ...]:
    """(destination, read-only) of the container's binds and tmpfs mounts: Docker's volumes."""
    try:
        mounts = user_mounts(rec.host_config)
    except errdefs.SampanError:
        return ()
    return tuple((m.destination, "ro" in m.options) for m in mounts)


def _binds(rec: ContainerRecord) -> tuple[copying.Bind, ...]:
    """The bind mounts a stopped container's view needs: its Binds/Mounts binds and the hosts,
    hostname and resolv.conf files it gets (read-only with a read-only rootfs, as Docker)."""
    from sampan.daemon.containers import copying

    try:
        mounts = user_mounts(rec.host_config)
    except errdefs.SampanError:
        mounts = []
    out = [copying.Bind(m.source, m.destination, "ro" in m.options, "rbind" in m.options)
           for m in mounts if m.type == "bind"]
    taken = {m.destination for m in mounts}
    readonly = bool(rec.host_config.get("ReadonlyRootfs"))
    for destination, attr in _NETWORK_FILES:
        source = getattr(rec, attr)
        if destination not in taken and source and os.path.exists(source):
            out.append(copying.Bind(source, destination, readonly, False))
    return tuple(out)
