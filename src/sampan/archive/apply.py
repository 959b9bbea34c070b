"""Apply a layer tar under a directory, path-safely, with overlay or native whiteouts.

Docker unpacks in a chroot; we get the same guarantees without one: every entry name is
cleaned (a `..` breakout is an error), and every parent directory is resolved component by
component as if `dest` were `/`, following symlinks made by earlier entries only inside
`dest`. The entry itself is then created by name in that real directory (never followed).
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import shutil
import stat
from dataclasses import dataclass
from typing import BinaryIO

from sampan.archive import tarstream as ts
from sampan.archive.compression import CORRUPTION_ERRORS, decompressor, detect_compression
from sampan.archive.whiteouts import OPAQUE, WH_META_PREFIX, WH_PREFIX, Whiteouts
from sampan.errdefs import DataLoss, InvalidArgument, SampanError, System

log = logging.getLogger(__name__)

_MAX_SYMLINK_HOPS = 40
_MAX_DEPTH = 400  # directory levels below the layer root
# Relative names without empty, "." or ".." components need no cleaning.
_PLAIN_NAME = re.compile(r"(?!\.{1,2}(?:/|$))[^/\x00]+(?:/(?!\.{1,2}(?:/|$))[^/\x00]+)*/?")
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class ApplyResult:
    diff_id: str  # sha256 of the whole uncompressed stream
    size: int  # bytes of the uncompressed stream


def apply_layer(stream: BinaryIO, dest: str, *, compression: str, whiteouts: str) -> ApplyResult:
    """Extract a (compressed) layer stream under `dest`.

    `compression` ("gzip", "zstd", "" or "auto") is only a hint: like Docker, the stream's
    magic bytes decide, since registries and builders sometimes mislabel layers.
    """
    if whiteouts not in ("overlay", "native"):
        raise InvalidArgument(f"unknown whiteout mode {whiteouts!r}")
    if compression not in ("gzip", "zstd", "", "auto"):
        raise InvalidArgument(f"unsupported layer compression {compression!r}")
    head = _read_head(stream, 8)
    detected = detect_compression(head)
    if compression not in ("auto", detected):
        log.debug("layer labelled %r is actually %r", compression, detected or "uncompressed")
    src = decompressor(_Prepended(head, stream), detected)  # type: ignore[arg-type]
    try:
        reader = ts.TarReader(src)
        applier = Applier(dest, whiteouts)
        while (hdr := reader.next()) is not None:
            applier.apply(hdr, reader)
        applier.finish()
        diff_id, size = reader.finish()
    except SampanError:
        raise
    except CORRUPTION_ERRORS as e:
        raise DataLoss(f"failed to register layer: corrupt {detected or 'tar'} stream: {e}") from e
    except (OSError, ValueError, OverflowError) as e:
        raise System(f"failed to register layer: {e}") from e
    finally:
        src.close()
    _drain(stream)  # the caller may be digesting the compressed stream as we read it
    return ApplyResult(diff_id, size)


def _read_head(stream: BinaryIO, n: int) -> bytes:
    head = b""
    while len(head) < n:
        chunk = stream.read(n - len(head))
        if not chunk:
            break
        head += chunk
    return head


class _Prepended:
    """`stream` with `head` (already read from it) put back in front."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = memoryview(head)
        self._stream = stream
        self._readinto = getattr(stream, "readinto", None)

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                out = bytes(self._head) + self._stream.read()
                self._head = memoryview(b"")
                return out
            out = bytes(self._head[:n])
            self._head = self._head[n:]
            return out
        return self._stream.read(n)

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self._head:
            k = min(len(buf), len(self._head))
            buf[:k] = self._head[:k]
            self._head = self._head[k:]
            return k
        if self._readinto is not None:
            return int(self._readinto(buf) or 0)
        data = self._stream.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """The caller owns the underlying stream."""


def _drain(stream: BinaryIO) -> None:
    while stream.read(1 << 20):
        pass


def clean_name(name: str, dest: str) -> str:
    """Entry name relative to the layer root ("" for the root); `..` breakouts are errors."""
    if _PLAIN_NAME.fullmatch(name):
        return name.rstrip("/")  # fast path: already clean and relative
    if "\x00" in name:
        raise InvalidArgument(f"invalid tar header: NUL in name {name!r}")
    cleaned = posixpath.normpath(name) if name else "."
    cleaned = cleaned.lstrip("/")
    if cleaned == ".." or cleaned.startswith("../"):
        raise InvalidArgument(f'"{name}" is outside of "{dest}"')
    return "" if cleaned in (".", "") else cleaned


class Applier:
    """Per-layer state: resolved-directory cache, paths this layer made, deferred dir attributes.

    Public so that other tar extractions with the same path safety (`sampan cp` on the client
    side) can subclass it and change what `apply` does with each entry.
    """

    def __init__(self, dest: str, whiteouts: str) -> None:
        self.dest = dest
        self.root = os.path.realpath(dest)
        if not os.path.isdir(self.root):
            raise InvalidArgument(f"layer destination {dest} is not a directory")
        self.is_root = os.geteuid() == 0
        self._root_depth = self.root.count("/")
        self._dirs: dict[str, str] = {}
        self._dir_attrs: list[tuple[str, ts.TarHeader]] = []
        self.wh = Whiteouts(self.root, whiteouts)

    # -- path resolution -------------------------------------------------------------------

    def resolve_dir(self, rel: str, create: bool) -> str | None:
        """Real path of directory `rel` inside the root (symlinks followed as in a chroot)."""
        if rel == "":
            return self.root
        hit = self._dirs.get(rel)
        if hit is not None:
            return hit
        parts = rel.split("/")
        start, cur = 0, self.root
        for i in range(len(parts) - 1, 0, -1):  # continue from the deepest cached ancestor
            hit = self._dirs.get("/".join(parts[:i]))
            if hit is not None:
                start, cur = i, hit
                break
        hops = [0]
        for i in range(start, len(parts)):
            nxt = self._walk(cur, [parts[i]], create, hops)
            if nxt is None:
                return None
            cur = nxt
            self._dirs["/".join(parts[: i + 1])] = cur
        return cur

    def _walk(self, cur: str, parts: list[str], create: bool, hops: list[int]) -> str | None:
        for part in parts:
            if part in ("", "."):
                continue
            if part == "..":
                if cur != self.root:
                    cur = os.path.dirname(cur)
                continue
            nxt = cur + "/" + part
            try:
                st = os.lstat(nxt)
            except FileNotFoundError:
                if not create:
                    return None
                self._check_depth(nxt)
                os.mkdir(nxt, 0o755)
                self.wh.created(nxt)
                cur = nxt
                continue
            if stat.S_ISDIR(st.st_mode):
                cur = nxt
            elif stat.S_ISLNK(st.st_mode):
                hops[0] += 1
                if hops[0] > _MAX_SYMLINK_HOPS:
                    raise InvalidArgument(f"too many levels of symbolic links at {self._rel(nxt)}")
                target = os.readlink(nxt)
                start = self.root if target.startswith("/") else cur
                resolved = self._walk(start, target.split("/"), create, hops)
                if resolved is None:
                    return None
                cur = resolved
            else:
                raise InvalidArgument(f"cannot extract under {self._rel(nxt)}: not a directory")
        return cur

    def _check_depth(self, path: str) -> None:
        """Refuse absurdly deep trees: they would break every recursive walk that removes them."""
        if path.count("/") - self._root_depth > _MAX_DEPTH:
            raise InvalidArgument(f"layer entry {self._rel(path)[:200]}... is nested too deeply")

    def _rel(self, real: str) -> str:
        return "/" + os.path.relpath(real, self.root)

    def forget_dirs(self) -> None:
        """Something that may be a cached directory was removed or replaced."""
        self._dirs.clear()

    # -- entries ---------------------------------------------------------------------------

    def apply(self, hdr: ts.TarHeader, reader: ts.TarReader) -> None:
        rel = clean_name(hdr.name, self.dest)
        parent_rel, _, base = rel.rpartition("/")
        if WH_PREFIX in rel and self._special(rel, parent_rel, base, hdr):
            return
        if rel == "":
            if hdr.type != ts.DIR:
                raise InvalidArgument(f"invalid tar header: layer root {hdr.name!r} is not a directory")
            self._dir_attrs.append((self.root, hdr))
            return
        parent = self.resolve_dir(parent_rel, create=True)
        assert parent is not None
        self._create(parent + "/" + base, hdr, reader)

    def _special(self, rel: str, parent_rel: str, base: str, hdr: ts.TarHeader) -> bool:
        """Whiteouts and aufs metadata; False for an ordinary entry that merely contains ".wh."."""
        first = rel.split("/", 1)[0]
        if base == OPAQUE:
            parent = self.resolve_dir(parent_rel, create=self.wh.mode == "overlay")
            if parent is not None:
                self.wh.opaque(parent, self)
            return True
        if first.startswith(WH_META_PREFIX):
            return True  # aufs metadata (.wh..wh.plnk and friends): never part of the image
        if base.startswith(WH_PREFIX):
            name = base[len(WH_PREFIX) :]
            if name in ("", ".", "..") or "/" in name:
                raise InvalidArgument(f"invalid whiteout name {hdr.name!r}")
            parent = self.resolve_dir(parent_rel, create=self.wh.mode == "overlay")
            if parent is not None:
                self.wh.whiteout(parent, name, hdr, self)
            return True
        return False

    def remove_existing(self, path: str) -> None:
        """Remove whatever is at `path` (a whole tree for a directory)."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
            self.forget_dirs()
        else:
            os.unlink(path)
            if stat.S_ISLNK(st.st_mode):
                self.forget_dirs()

    def _create(self, path: str, hdr: ts.TarHeader, reader: ts.TarReader) -> None:
        typ = hdr.type
        if typ == ts.DIR:
            self._check_depth(path)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                if not os.path.isdir(path) or os.path.islink(path):
                    self.remove_existing(path)
                    os.mkdir(path, 0o700)
            if self.is_root:
                os.lchown(path, hdr.uid, hdr.gid)
            self._xattrs(path, hdr)
            self._dir_attrs.append((path, hdr))
            self.wh.created(path)
            return
        if typ in (ts.REG, ts.AREG, ts.CONTIG):
            self._file(path, hdr, reader)
            self.wh.created(path)
            return
        try:
            self._retry_after_remove(path, hdr)
        except _Skip:
            return
        if self.is_root:
            os.lchown(path, hdr.uid, hdr.gid)
        if typ != ts.SYM and not (typ == ts.LNK and os.path.islink(path)):
            os.chmod(path, hdr.mode)
        self._xattrs(path, hdr)
        self._times(path, hdr)
        self.wh.created(path)

    def _retry_after_remove(self, path: str, hdr: ts.TarHeader) -> None:
        try:
            self._make_node(path, hdr)
        except FileExistsError:
            self.remove_existing(path)
            self._make_node(path, hdr)

    def _make_node(self, path: str, hdr: ts.TarHeader) -> None:
        typ = hdr.type
        if typ == ts.SYM:
            os.symlink(hdr.linkname, path)
        elif typ == ts.LNK:
            os.link(self._link_target(hdr), path, follow_symlinks=False)
        elif typ in (ts.CHR, ts.BLK):
            kind = stat.S_IFCHR if typ == ts.CHR else stat.S_IFBLK
            try:
                os.mknod(path, kind | hdr.mode, os.makedev(hdr.devmajor, hdr.devminor))
            except PermissionError:
                log.debug("skipping device node %s: not permitted", hdr.name)
                raise _Skip from None
        elif typ == ts.FIFO:
            os.mkfifo(path, hdr.mode)
        else:
            raise InvalidArgument(f"unhandled tar header type {typ!r} for {hdr.name!r}")

    def _link_target(self, hdr: ts.TarHeader) -> str:
        rel = clean_name(hdr.linkname, self.dest)
        if rel == "":
            raise InvalidArgument(f"invalid hard link {hdr.name!r} to the layer root")
        parent_rel, _, base = rel.rpartition("/")
        parent = self.resolve_dir(parent_rel, create=False)
        target = None if parent is None else parent + "/" + base
        if target is None or not os.path.lexists(target):
            raise InvalidArgument(f"hard link {hdr.name!r}: target {hdr.linkname!r} not found in the layer")
        return target

    def _file(self, path: str, hdr: ts.TarHeader, reader: ts.TarReader) -> None:
        try:
            fd = os.open(path, _OPEN_FLAGS, 0o600)
        except FileExistsError:
            self.remove_existing(path)
            fd = os.open(path, _OPEN_FLAGS, 0o600)
        try:
            reader.copy_to(fd)
            if self.is_root:
                os.fchown(fd, hdr.uid, hdr.gid)
            os.fchmod(fd, hdr.mode)
            if hdr.xattrs:
                self._xattrs(path, hdr)
            os.utime(fd, ns=_times_ns(hdr))
        finally:
            os.close(fd)

    def _xattrs(self, path: str, hdr: ts.TarHeader) -> None:
        for key, value in hdr.xattrs.items():
            if key.startswith("trusted.overlay."):
                log.debug("ignoring overlay xattr %s on %s from the layer", key, hdr.name)
                continue
            try:
                os.setxattr(path, key, value, follow_symlinks=False)
            except OSError as e:
                log.debug("cannot set xattr %s on %s: %s", key, hdr.name, e)

    def _times(self, path: str, hdr: ts.TarHeader) -> None:
        try:
            os.utime(path, ns=_times_ns(hdr), follow_symlinks=False)
        except OSError as e:
            log.debug("cannot set times on %s: %s", hdr.name, e)

    def finish(self) -> None:
        """Directory modes and times last: writing their contents changed them."""
        for path, hdr in self._dir_attrs:  # in order: a repeated dir entry's last header wins
            try:
                os.chmod(path, hdr.mode)
                self._times(path, hdr)
            except FileNotFoundError:
                continue  # removed by a later entry or whiteout


_MAX_TIME = 2**62 // 10**9  # keeps nanoseconds inside a 64-bit time


def _times_ns(hdr: ts.TarHeader) -> tuple[int, int]:
    """(atime, mtime) in ns; atime is never before mtime (as Docker), absurd times clamped."""
    if hdr.atime is None and 0 <= hdr.mtime <= _MAX_TIME:
        t = int(hdr.mtime * 1e9)
        return t, t
    mtime = min(max(hdr.mtime, -_MAX_TIME), _MAX_TIME)
    atime = mtime if hdr.atime is None else min(max(hdr.atime, mtime), _MAX_TIME)
    return int(atime * 1e9), int(mtime * 1e9)


class _Skip(Exception):
    """An entry that cannot be created here (a device node without privilege)."""
