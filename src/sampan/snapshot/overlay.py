"""overlayfs driver: each snapshot's `fs/` is one layer's upper dir; mounts stack the chain.

Directories are numbered (like containerd's) so `lowerdir=` strings stay short for images
with many layers.
"""

from __future__ import annotations

import os

from sampan.errdefs import InvalidArgument
from sampan.snapshot.base import BaseSnapshotter
from sampan.snapshot.metastore import Record
from sampan.snapshot.mount import backing_filesystem
from sampan.snapshot.types import Mount


class OverlaySnapshotter(BaseSnapshotter):
    driver_name = "overlay2"
    driver_key = "overlay"
    independent_layers = True  # an upper dir holds only its own layer's changes

    def __init__(self, root: str) -> None:
        if any(c in os.path.abspath(root) for c in ":,"):
            raise InvalidArgument(f"overlay snapshot root {root!r} must not contain ':' or ','")
        super().__init__(root)
        self._index_default_on = _read_param("index") == "Y"

    def driver_status(self) -> list[tuple[str, str]]:
        """What `docker info` shows as DriverStatus for overlay2."""
        return [
            ("Backing Filesystem", backing_filesystem(self.root)),
            ("Supports d_type", "true"),
            ("Using metacopy", "true" if _read_param("metacopy") == "Y" else "false"),
            ("Native Overlay Diff", "true"),
            ("userxattr", "false"),
        ]

    def _populate(self, path: str, parent: Record | None, kind: str) -> None:
        if kind == "active":
            os.mkdir(os.path.join(path, "work"), 0o700)

    def _mounts(self, rec: Record) -> list[Mount]:
        chain = self._meta.chain(rec.key)
        if rec.kind == "active":
            lowers = [self._fs(r) for r in chain[1:]]
            if not lowers:
                return [Mount("bind", self._fs(rec), ["rw", "rbind"])]
            options = [
                f"lowerdir={':'.join(lowers)}",
                f"upperdir={self._fs(rec)}",
                f"workdir={os.path.join(self._dir(rec), 'work')}",
            ]
            if self._index_default_on:
                options.append("index=off")  # as dockerd: layers are shared between mounts
            return [Mount("overlay", "overlay", options)]
        # Read-only: a view shows its parent chain; a committed snapshot shows itself too.
        layers = chain[1:] if rec.kind == "view" else chain
        if not layers:
            return [Mount("bind", self._fs(rec), ["ro", "rbind"])]
        if len(layers) == 1:
            return [Mount("bind", self._fs(layers[0]), ["ro", "rbind"])]
        lowerdir = ":".join(self._fs(r) for r in layers)
        return [Mount("overlay", "overlay", [f"lowerdir={lowerdir}"])]

    def apply_dir(self, key: str) -> tuple[str, str]:
        return self._fs(self._active(key)), "overlay"


def _read_param(name: str) -> str:
    try:
        with open(f"/sys/module/overlay/parameters/{name}", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""
