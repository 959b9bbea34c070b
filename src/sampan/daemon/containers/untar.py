"""`docker cp` into a container: unpack a tar into a directory the way Docker's Untar does.

Runs in the copy helper (`nscopy`), whose root is the container's root, so every path the
kernel resolves (a parent directory that a symlink in the container or in the tar redirects)
stays inside the container. On top of that, like Docker: an entry named outside the
destination ("../x") is refused, as are symlinks whose relative target climbs out of it and
hard links to anything outside it; absolute names are taken relative to the destination.
The last component of an entry is never followed: what is in its way is removed first.
"""

from __future__ import annotations

import bz2  # noqa: F401 - tarfile imports these lazily; the helper cannot import once inside
import errno
import gzip
import lzma
import os
import posixpath
import shutil
import stat
import tarfile
from typing import IO, BinaryIO, NamedTuple

from sampan.errdefs import InvalidArgument, System

_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20


class UntarOptions(NamedTuple):
    no_overwrite_dir_non_dir: bool = False
    chown: tuple[int, int] | None = None  # copyUIDGID: every entry owned by the container's user


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
        self.dirs: list[tuple[str, tarfile.TarInfo]] = []
        self.is_root = os.geteuid() == 0

    def run(self, stream: BinaryIO) -> None:
        """Plain, gzip, bzip2 or xz (the API accepts these): tarfile's stream mode detects them."""
        try:
            with tarfile.open(fileobj=stream, mode="r|*", bufsize=1 << 16) as tf:  # 10 KiB reads by default: slower
                for member in tf:
                    self.entry(member, tf)
        except tarfile.ReadError as e:
            if str(e) != "empty file":  # an empty body extracts nothing, as dockerd's Untar
                raise InvalidArgument(f"invalid tar stream: {e}") from None
        except (tarfile.TarError, EOFError, gzip.BadGzipFile, lzma.LZMAError) as e:
            raise InvalidArgument(f"invalid tar stream: {e}") from None
        for path, member in reversed(self.dirs):  # contents first changed their times
            _set_times(path, member)

    def _path(self, rel: str) -> str:
        return self.dest if not rel else posixpath.join(self.dest, rel)

    def entry(self, member: tarfile.TarInfo, tf: tarfile.TarFile) -> None:
        rel = _entry_name(member.name, self.dest)
        path = self._path(rel)
        parent = posixpath.dirname(path) if rel else self.dest
        if rel and not os.path.lexists(parent):
            os.makedirs(parent, 0o755, exist_ok=True)
        if not (member.isreg() or member.isdir() or member.islnk() or member.issym() or member.isdev()):
            return  # volume labels and the like: no file
        is_dir = member.isdir()
        try:
            st: os.stat_result | None = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None:
            self._clear(path, st, is_dir)
        if not self._create(path, member, tf):
            return
        if member.islnk():
            return  # the file it links to already has its owner, mode and times
        if self.is_root:  # as Docker: ownership only when extracting with privilege
            uid, gid = self.options.chown or (member.uid, member.gid)
            os.chown(path, uid, gid, follow_symlinks=False)
        if not member.issym():
            os.chmod(path, member.mode & 0o7777)
        self._xattrs(path, member)
        if is_dir:
            self.dirs.append((path, member))
        else:
            _set_times(path, member)

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

    def _create(self, path: str, member: tarfile.TarInfo, tf: tarfile.TarFile) -> bool:
        if member.isdir():
            if not os.path.lexists(path):
                os.mkdir(path, 0o755)
        elif member.isreg():
            fd = os.open(path, _FILE_FLAGS, 0o600)
            try:
                _copy(tf.extractfile(member), fd)
            finally:
                os.close(fd)
        elif member.islnk():
            target = self._path(_entry_name(member.linkname, self.dest))
            if not _inside(self.dest, target) or target == self.dest:
                raise InvalidArgument(f'invalid hardlink "{target}" -> "{member.linkname}"')
            os.link(target, path, follow_symlinks=False)
        elif member.issym():
            # Go's filepath.Join: an absolute target is taken below the link's directory too
            target = posixpath.normpath(posixpath.dirname(path) + "/" + member.linkname)
            if not _inside(self.dest, target):
                raise InvalidArgument(f'invalid symlink "{path}" -> "{member.linkname}"')
            os.symlink(member.linkname, path)
        elif member.isfifo():
            os.mkfifo(path, member.mode & 0o7777)
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            try:
                os.mknod(path, kind | (member.mode & 0o7777), os.makedev(member.devmajor, member.devminor))
            except PermissionError:
                return False  # no privilege for device nodes (as Docker in a user namespace)
        return True

    @staticmethod
    def _xattrs(path: str, member: tarfile.TarInfo) -> None:
        for key, value in member.pax_headers.items():
            if not key.startswith("SCHILY.xattr.") or key.startswith("SCHILY.xattr.trusted.overlay."):
                continue
            try:
                os.setxattr(path, key[len("SCHILY.xattr."):], value.encode("utf-8", "surrogateescape"),
                            follow_symlinks=False)
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise System(f"failed to set xattr {key} on {path}: {e.strerror}") from None


def _copy(src: IO[bytes] | None, fd: int) -> None:
    if src is None:
        return
    while chunk := src.read(_CHUNK):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]


def _set_times(path: str, member: tarfile.TarInfo) -> None:
    mtime = int(member.mtime * 1e9)
    atime_text = member.pax_headers.get("atime")
    try:
        atime = int(float(atime_text) * 1e9) if atime_text else mtime
    except ValueError:
        atime = mtime
    try:
        os.utime(path, ns=(atime, mtime), follow_symlinks=False)
    except OSError:
        pass  # times are best effort, as Docker (a symlink on some filesystems)


def untar(stream: BinaryIO, dest: str, options: UntarOptions) -> None:
    Untar(dest, options).run(stream)
