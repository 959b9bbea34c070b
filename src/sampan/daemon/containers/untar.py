"""`docker cp` into a container: unpack a tar into a directory the way Docker's Untar does.

Runs in the copy helper (`nscopy`), whose root is the container's root, so every path the
kernel resolves (a parent directory that a symlink in the container or in the tar redirects)
stays inside the container. On top of that, like Docker: an entry named outside the
destination ("../x") is refused, as are symlinks whose relative target climbs out of it and
hard links to anything outside it; absolute names are taken relative to the destination.
The last component of an entry is never followed: what is in its way is removed first.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import io
import logging
import lzma
import os
import posixpath
import shutil
import stat
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from sampan.archive import tarstream as ts
from sampan.errdefs import InvalidArgument, System

log = logging.getLogger(__name__)

_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class UntarOptions:
    no_overwrite_dir_non_dir: bool = False
    chown: tuple[int, int] | None = None  # copyUIDGID: every entry owned by the container's user


def open_maybe_compressed(stream: BinaryIO) -> BinaryIO:
    """The body may be plain, gzip, bzip2 or xz (the API accepts these); magic bytes decide."""
    buffered: Any = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(cast(Any, stream))
    head = buffered.peek(6)[:6]
    if head.startswith(b"\x1f\x8b"):
        return cast(BinaryIO, gzip.GzipFile(fileobj=buffered, mode="rb"))
    if head.startswith(b"BZh"):
        return cast(BinaryIO, bz2.BZ2File(buffered))
    if head.startswith(b"\xfd7zXZ\x00"):
        return cast(BinaryIO, lzma.LZMAFile(buffered))
    return cast(BinaryIO, buffered)


def _inside(dest: str, path: str) -> bool:
    return path == dest or path.startswith(dest.rstrip("/") + "/")


def _entry_name(name: str, dest: str) -> str:
    """The entry's path relative to dest ("" for dest itself); `..` breakouts are errors."""
    if "\x00" in name:
        raise InvalidArgument(f"invalid tar header: NUL in name {name!r}")
    clean = posixpath.normpath(name or ".").lstrip("/")
    if clean == ".." or clean.startswith("../"):
        raise InvalidArgument(f'"{name}" is outside of "{dest}"')
    return "" if clean in (".", "") else clean


class Untar:
    """One extraction into `dest` (an existing directory, already resolved)."""

    def __init__(self, dest: str, options: UntarOptions) -> None:
        self.dest = posixpath.normpath(dest)
        self.options = options
        self.dirs: list[tuple[str, ts.TarHeader]] = []
        self.is_root = os.geteuid() == 0

    def run(self, stream: BinaryIO) -> None:
        reader = ts.TarReader(open_maybe_compressed(stream))
        while (hdr := reader.next()) is not None:
            self.entry(hdr, reader)
        for path, hdr in reversed(self.dirs):  # contents first changed their times
            _set_times(path, hdr)
        reader.finish()

    def _path(self, rel: str) -> str:
        return self.dest if not rel else posixpath.join(self.dest, rel)

    def entry(self, hdr: ts.TarHeader, reader: ts.TarReader) -> None:
        rel = _entry_name(hdr.name, self.dest)
        path = self._path(rel)
        parent = posixpath.dirname(path) if rel else self.dest
        if rel and not os.path.lexists(parent):
            os.makedirs(parent, 0o755, exist_ok=True)
        is_dir = hdr.type == ts.DIR
        try:
            st: os.stat_result | None = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            self._clear(path, st, is_dir)
        if hdr.type not in (ts.REG, ts.AREG, ts.CONTIG, ts.DIR, ts.LNK, ts.SYM, ts.CHR, ts.BLK, ts.FIFO):
            log.debug("skipping tar entry %s of type %r", hdr.name, hdr.type)
            return
        if not self._create(path, hdr, reader):
            return
        if hdr.type == ts.LNK:
            return  # the file it links to already has its owner, mode and times
        if self.is_root:  # as Docker: ownership only when extracting with privilege
            uid, gid = self.options.chown or (hdr.uid, hdr.gid)
            os.chown(path, uid, gid, follow_symlinks=False)
        if hdr.type != ts.SYM:
            os.chmod(path, hdr.mode)
        self._xattrs(path, hdr)
        if is_dir:
            self.dirs.append((path, hdr))
        else:
            _set_times(path, hdr)

    def _clear(self, path: str, st: os.stat_result, is_dir: bool) -> None:
        """Make way for the entry, as Docker: an existing directory stays for a directory entry."""
        was_dir = stat.S_ISDIR(st.st_mode)
        if self.options.no_overwrite_dir_non_dir:
            if was_dir and not is_dir:
                raise InvalidArgument(f'cannot overwrite directory "{path}" with non-directory "{self.dest}"')
            if not was_dir and is_dir:
                raise InvalidArgument(f'cannot overwrite non-directory "{path}" with directory "{self.dest}"')
        if was_dir and is_dir:
            return
        if path == self.dest:
            raise InvalidArgument(f"cannot replace the extraction point {path}")
        if was_dir:
            shutil.rmtree(path)
        else:
            os.unlink(path)

    def _create(self, path: str, hdr: ts.TarHeader, reader: ts.TarReader) -> bool:
        typ = hdr.type
        if typ == ts.DIR:
            if not os.path.lexists(path):
                os.mkdir(path, 0o755)
        elif typ in (ts.REG, ts.AREG, ts.CONTIG):
            fd = os.open(path, _FILE_FLAGS, 0o600)
            try:
                reader.copy_to(fd)
            finally:
                os.close(fd)
        elif typ == ts.LNK:
            target = self._path(_entry_name(hdr.linkname, self.dest))
            if not _inside(self.dest, target) or target == self.dest:
                raise InvalidArgument(f'invalid hardlink "{target}" -> "{hdr.linkname}"')
            os.link(target, path, follow_symlinks=False)
        elif typ == ts.SYM:
            # Go's filepath.Join: an absolute target is taken below the link's directory too
            target = posixpath.normpath(posixpath.dirname(path) + "/" + hdr.linkname)
            if not _inside(self.dest, target):
                raise InvalidArgument(f'invalid symlink "{path}" -> "{hdr.linkname}"')
            os.symlink(hdr.linkname, path)
        elif typ == ts.FIFO:
            os.mkfifo(path, hdr.mode & 0o7777)
        else:
            kind = stat.S_IFCHR if typ == ts.CHR else stat.S_IFBLK
            try:
                os.mknod(path, kind | (hdr.mode & 0o7777), os.makedev(hdr.devmajor, hdr.devminor))
            except PermissionError:
                log.debug("skipping device node %s: not permitted", hdr.name)
                return False
        return True

    @staticmethod
    def _xattrs(path: str, hdr: ts.TarHeader) -> None:
        for key, value in hdr.xattrs.items():
            if key.startswith("trusted.overlay."):
                continue
            try:
                os.setxattr(path, key, value, follow_symlinks=False)
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise System(f"failed to set xattr {key} on {path}: {e.strerror}") from None


def _set_times(path: str, hdr: ts.TarHeader) -> None:
    mtime = int(hdr.mtime * 1e9)
    atime = mtime if hdr.atime is None else int(hdr.atime * 1e9)
    try:
        os.utime(path, ns=(atime, mtime), follow_symlinks=False)
    except OSError as e:
        log.debug("cannot set times on %s: %s", path, e)


def untar(stream: BinaryIO, dest: str, options: UntarOptions) -> None:
    Untar(dest, options).run(stream)
