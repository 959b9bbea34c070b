"""A container's filesystem seen from outside: `docker diff` (its rw layer against what lies
below) and `docker export` (its whole rootfs as a tar)."""

from __future__ import annotations

import os
import stat
from typing import Any, BinaryIO

from sampan.errdefs import NotImplementedFeature
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

