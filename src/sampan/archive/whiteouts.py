"""Whiteouts (`.wh.<name>`, opaque `.wh..wh..opq`) in the two forms a snapshotter needs.

"overlay": the destination is the empty upper dir of a new layer, so deletions are recorded
the way overlayfs reads them (0/0 character devices, `trusted.overlay.opaque=y`).
"native": the destination already holds a full copy of the parent, so deletions happen in
place; an opaque dir loses every child this layer did not itself create.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
from typing import Protocol

from sampan.errdefs import System

log = logging.getLogger(__name__)

WH_PREFIX = ".wh."
WH_META_PREFIX = ".wh..wh."
OPAQUE = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"


class _Owner(Protocol):
    is_root: bool

    def remove_existing(self, path: str) -> None: ...

    def forget_dirs(self) -> None: ...


class _Header(Protocol):
    uid: int
    gid: int


class Whiteouts:
    def __init__(self, root: str, mode: str) -> None:
        self.root = root
        self.mode = mode
        self._created: set[str] = set()

    def created(self, path: str) -> None:
        """Remember a path this layer made (only native opaque dirs need to know)."""
        if self.mode == "native":
            self._created.add(path)

    def whiteout(self, parent: str, name: str, hdr: _Header, owner: _Owner) -> None:
        path = parent + "/" + name
        if self.mode == "native":
            owner.remove_existing(path)
            return
        owner.remove_existing(path)  # something this layer itself put there earlier
        try:
            os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        except PermissionError as e:
            raise System(f"failed to create whiteout {name} (overlay whiteouts need root): {e}") from e
        if owner.is_root:
            os.lchown(path, hdr.uid, hdr.gid)

    def opaque(self, parent: str, owner: _Owner) -> None:
        if self.mode == "overlay":
            try:
                os.setxattr(parent, OVERLAY_OPAQUE_XATTR, b"y", follow_symlinks=False)
            except OSError as e:
                raise System(f"failed to mark {parent} opaque: {e}") from e
            return
        self._clear_lower(parent)
        owner.forget_dirs()

    def _clear_lower(self, directory: str) -> None:
        """Remove everything under `directory` that this layer did not unpack (recursively)."""
        with os.scandir(directory) as it:
            entries = list(it)
        for ent in entries:
            if ent.path not in self._created:
                if ent.is_dir(follow_symlinks=False):
                    shutil.rmtree(ent.path)
                else:
                    os.unlink(ent.path)
            elif ent.is_dir(follow_symlinks=False):
                self._clear_lower(ent.path)
