"""Resolve a path inside a root directory as if the root were `/`, never escaping it.

A container's rootfs is untrusted: `/etc` may be a symlink to `/` or `../../host`. Mount
targets and device paths are resolved here component by component, evaluating symlinks
relative to the root, and `..` stops at the root (like chroot would). The result is a host
path under root; the caller creates missing parts. (Races with a running container are
out of scope: we resolve before the container's process runs.)
"""

from __future__ import annotations

import os
import stat

_MAX_SYMLINKS = 255


def secure_join(root: str, unsafe: str) -> str:
    """Host path of `unsafe` inside `root`, following symlinks without leaving root."""
    root = os.path.abspath(root)
    parts = [p for p in unsafe.split("/") if p]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            resolved.append(part)
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved.append(part)
            continue
        links += 1
        if links > _MAX_SYMLINKS:
            raise OSError(40, "too many levels of symbolic links", os.path.join("/", *resolved, part))
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p] + parts
    return os.path.join(root, *resolved) if resolved else root


def within(root: str, path: str) -> bool:
    """Whether host path `path` is root itself or below it (textually, after normalising)."""
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    return path == root or path.startswith(root.rstrip("/") + "/")
