"""Write a directory as a layer tar (for commit, export and save), the inverse of apply.

With whiteouts="overlay" the directory is an overlay upper dir: 0/0 character devices
become `.wh.<name>` entries and opaque dirs get `.wh..wh..opq`, so applying the result on
the lower layers reproduces the merged view. Entries are sorted, so output is reproducible.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from sampan.archive.whiteouts import OPAQUE, OVERLAY_OPAQUE_XATTR, WH_PREFIX
from sampan.errdefs import InvalidArgument
from sampan.tarentry import tar_header

_COPY = 1 << 20


@dataclass(frozen=True)
class WriteResult:
    diff_id: str  # sha256 of the tar written
    size: int


class _HashingWriter:
    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        self._out.write(data)
        return len(data)

    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


def write_layer(src: str, out: BinaryIO, *, whiteouts: str = "none") -> WriteResult:
    """Tar the tree under `src` to `out` (uncompressed); returns its diff ID and size."""
    if whiteouts not in ("none", "overlay"):
        raise InvalidArgument(f"unknown whiteout mode {whiteouts!r}")
    sink = _HashingWriter(out)
    links: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tf:  # type: ignore[call-overload]
        for rel, st in _walk(src):
            path = os.path.join(src, rel)
            if whiteouts == "overlay" and stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                tf.addfile(_whiteout(rel, st))
                continue
            info = _info(rel, path, st)
            if info is None:
                continue  # sockets: not representable in a layer
            if info.isreg() and st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in links:
                    info.type, info.linkname, info.size = tarfile.LNKTYPE, links[key], 0
                    tf.addfile(info)
                    continue
                links[key] = rel
            if info.isreg():
                with open(path, "rb") as f:
                    tf.addfile(info, f)
            else:
                tf.addfile(info)
            if whiteouts == "overlay" and info.isdir() and _is_opaque(path):
                marker = _whiteout(f"{rel}/{OPAQUE}", st)
                tf.addfile(marker)
    return WriteResult(sink.digest(), sink.size)


def _walk(src: str) -> list[tuple[str, os.stat_result]]:
    """(relative path, lstat) of every entry in pre-order (a dir before its contents), sorted."""

    def children(rel: str) -> list[tuple[str, os.stat_result]]:
        with os.scandir(os.path.join(src, rel) if rel else src) as it:
            found = [(f"{rel}/{e.name}" if rel else e.name, e.stat(follow_symlinks=False)) for e in it]
        return sorted(found, reverse=True)

    out: list[tuple[str, os.stat_result]] = []
    stack = children("")
    while stack:
        rel, st = stack.pop()
        out.append((rel, st))
        if stat.S_ISDIR(st.st_mode):
            stack.extend(children(rel))
    return out


def _info(rel: str, path: str, st: os.stat_result) -> tarfile.TarInfo | None:
    info = tar_header(rel, path, st)
    if info is None:
        return None
    xattrs = _xattrs(path)
    if xattrs:
        info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in xattrs.items()}
    return info


def _xattrs(path: str) -> dict[str, str]:
    """Extended attributes worth carrying (overlay's own bookkeeping is not)."""
    out: dict[str, str] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for name in names:
        if name.startswith("trusted.overlay."):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        out[name] = value.decode("utf-8", "surrogateescape")
    return out


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _whiteout(rel: str, st: os.stat_result) -> tarfile.TarInfo:
    parent, _, base = rel.rpartition("/")
    name = base if base == OPAQUE else WH_PREFIX + base
    info = tarfile.TarInfo(f"{parent}/{name}" if parent else name)
    info.mode = 0o644
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    return info
