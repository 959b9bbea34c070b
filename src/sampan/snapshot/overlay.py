"""overlayfs driver: each snapshot's `fs/` is one layer's upper dir; mounts stack the chain.

Directories are numbered (like containerd's) so `lowerdir=` strings stay short for images
with many layers.
"""

from __future__ import annotations

import os

from sampan.errdefs import InvalidArgument
from sampan.snapshot.base import BaseSnapshotter
from sampan.snapshot.metastore import Record
from sampan.snapshot.types import Mount


class OverlaySnapshotter(BaseSnapshotter):
    driver_name = "overlay2"
    driver_key = "overlay"

    def __init__(self, root: str) -> None:
        if any(c in os.path.abspath(root) for c in ":,"):
            raise InvalidArgument(f"overlay snapshot root {root!r} must not contain ':' or ','")
        super().__init__(root)

    def _populate(self, path: str, parent: Record | None, kind: str) -> None:
        if kind == "active":
            os.mkdir(os.path.join(path, "work"), 0o700)

    def _mounts(self, rec: Record) -> list[Mount]:
        chain = self._meta.chain(rec.key)
        if rec.kind == "active":
            lowers = [self._fs(r) for r in chain[1:]]
            if not lowers:
                return [Mount("bind", self._fs(rec), ["rw", "rbind"])]
            return [
                Mount(
                    "overlay",
                    "overlay",
                    [
                        f"lowerdir={':'.join(lowers)}",
                        f"upperdir={self._fs(rec)}",
                        f"workdir={os.path.join(self._dir(rec), 'work')}",
                    ],
                )
            ]
        # Read-only: a view shows its parent chain; a committed snapshot shows itself too.
        layers = chain[1:] if rec.kind == "view" else chain
        if not layers:
            return [Mount("bind", self._fs(rec), ["ro", "rbind"])]
        if len(layers) == 1:
            return [Mount("bind", self._fs(layers[0]), ["ro", "rbind"])]
        return [Mount("overlay", "overlay", [f"lowerdir={':'.join(self._fs(r) for r in layers)}"])]

    def apply_dir(self, key: str) -> tuple[str, str]:
        return self._fs(self._active(key)), "overlay"
