"""Native (copy) driver for filesystems without overlayfs: each active snapshot is a full
copy of its parent (hard links, xattrs, devices and ownership kept), bind mounted.

The copy runs `cp -a` (GNU coreutils: fast, in C, reflinks where the filesystem can).
"""

from __future__ import annotations

import os

from sampan.snapshot.base import BaseSnapshotter
from sampan.snapshot.copy import copy_tree
from sampan.snapshot.metastore import Record
from sampan.snapshot.types import Mount


class NativeSnapshotter(BaseSnapshotter):
    driver_name = "vfs"
    driver_key = "native"

    def _populate(self, path: str, parent: Record | None, kind: str) -> None:
        if kind == "active" and parent is not None:
            copy_tree(self._fs(parent), os.path.join(path, "fs"), pid_dir=path)

    def driver_status(self) -> list[tuple[str, str]]:
        """dockerd's vfs driver reports nothing."""
        return []

    def _mounts(self, rec: Record) -> list[Mount]:
        if rec.kind == "active":
            return [Mount("bind", self._fs(rec), ["rw", "rbind"])]
        if rec.kind == "view" and rec.parent is not None:
            # Committed snapshots never change, so a view can show the parent's copy directly.
            return [Mount("bind", self._fs(self._meta.get(rec.parent)), ["ro", "rbind"])]
        return [Mount("bind", self._fs(rec), ["ro", "rbind"])]

    def apply_dir(self, key: str) -> tuple[str, str]:
        return self._fs(self._active(key)), "native"
