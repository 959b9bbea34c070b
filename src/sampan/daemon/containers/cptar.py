"""`docker cp` out of a container: stat a path and tar it, with Docker's names and modes.

These functions run in the copy helper process (`nscopy`) whose root directory is already the
container's root, so every path (and every symlink in it) resolves inside the container. `root`
exists for tests, which run them on a plain directory; it is "/" in the helper.

No user or group names are looked up (tar headers carry numbers only): in a container's root a
name lookup would load the container's NSS libraries into a root process (CVE-2019-14271).
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from typing import Any, BinaryIO

from sampan.linux.safepath import secure_join
from sampan.shim.wire import rfc3339nano
from sampan.tarentry import tar_header

# Go's os.FileMode type bits, which Docker puts in the stat header
GO_DIR, GO_SYMLINK, GO_DEVICE, GO_PIPE, GO_SOCKET = 1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24
GO_SETUID, GO_SETGID, GO_CHARDEV, GO_STICKY = 1 << 23, 1 << 22, 1 << 21, 1 << 20
_COPY = 1 << 20


def container_path(path: str) -> str:
    """`path` as an absolute clean path, keeping a trailing "/" or "/." as Docker does."""
    clean = posixpath.normpath("/" + path.lstrip("/"))
    if path.endswith("/.") and clean != "/":
        return clean + "/."
    if path.endswith("/") and clean != "/":
        return clean + "/"
    return clean


def go_base(path: str) -> str:
    """filepath.Base: the last element, trailing slashes ignored; "/" for the root."""
    stripped = path.rstrip("/")
    return posixpath.basename(stripped) if stripped else "/"


def go_mode(mode: int) -> int:
    """A stat st_mode as Go's os.FileMode bits."""
    out = stat.S_IMODE(mode) & 0o777
    kind = stat.S_IFMT(mode)
    out |= {stat.S_IFDIR: GO_DIR, stat.S_IFLNK: GO_SYMLINK, stat.S_IFIFO: GO_PIPE, stat.S_IFSOCK: GO_SOCKET,
            stat.S_IFCHR: GO_DEVICE | GO_CHARDEV, stat.S_IFBLK: GO_DEVICE}.get(kind, 0)
    for bit, go in ((stat.S_ISUID, GO_SETUID), (stat.S_ISGID, GO_SETGID), (stat.S_ISVTX, GO_STICKY)):
        if mode & bit:
            out |= go
    return out


def _host(root: str, abs_path: str) -> str:
    """The path to open for `abs_path`. In the helper (root "/") the kernel resolves it inside
    the container; elsewhere (tests) its parents are resolved inside `root` here."""
    if root == "/":
        return abs_path
    if abs_path.endswith(("/", "/.")):
        return secure_join(root, abs_path)
    parent, base = posixpath.split(abs_path)
    return os.path.join(secure_join(root, parent), base)


def path_stat(path: str, root: str = "/") -> dict[str, Any]:
    """Docker's ContainerPathStat of `path`; linkTarget is the fully resolved target of a
    symlink, as an absolute path inside the container. Raises OSError like lstat."""
    abs_path = container_path(path)
    st = os.lstat(_host(root, abs_path))
    target = ""
    if stat.S_ISLNK(st.st_mode):
        rel = os.path.relpath(secure_join(root, abs_path), os.path.abspath(root))
        target = "/" if rel == "." else "/" + rel
    return {"name": go_base(abs_path), "size": st.st_size, "mode": go_mode(st.st_mode),
            "mtime": rfc3339nano(st.st_mtime_ns), "linkTarget": target}


class _Exactly:
    """Exactly `size` bytes of an open file: zeros if it shrank meanwhile, cut if it grew (the
    tar header is already written)."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.left = fd, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        if n <= 0:
            return b""
        chunks, want = [], n
        while want:
            try:
                data = os.read(self.fd, want)
            except OSError:
                data = b""  # unreadable meanwhile: the header is out, so zeros follow it
            if not data:
                chunks.append(bytes(want))
                break
            chunks.append(data)
            want -= len(data)
        self.left -= n
        return b"".join(chunks)


class _Writer:
    def __init__(self, out: BinaryIO) -> None:
        self.tf = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - closed by close()
        self.links: dict[tuple[int, int], str] = {}

    def add(self, name: str, host: str, st: os.stat_result) -> None:
        info = tar_header(name, host, st)
        if info is None:
            return
        if info.isreg() and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            first = self.links.get(key)
            if first is not None:
                info.type, info.linkname, info.size = tarfile.LNKTYPE, first, 0
                self.tf.addfile(info)
                return
            self.links[key] = name
        if not info.isreg():
            self.tf.addfile(info)
            return
        try:  # never follow a symlink swapped in, never block on a fifo swapped in
            fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return  # gone or replaced since it was listed
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            self.tf.addfile(info, _Exactly(fd, info.size))
        finally:
            os.close(fd)

    def tree(self, name: str, host: str, st: os.stat_result, skip: frozenset[str] = frozenset()) -> None:
        """`host` (a directory) and everything below it, pre-order, names sorted like Go's walk;
        directories in `skip` are archived empty."""
        stack: list[tuple[str, str, os.stat_result]] = [(name, host, st)]
        while stack:
            entry_name, entry_host, entry_st = stack.pop()
            self.add(entry_name, entry_host, entry_st)
            if not stat.S_ISDIR(entry_st.st_mode) or entry_host in skip:
                continue
            try:
                with os.scandir(entry_host) as it:
                    children = sorted((e.name, e.stat(follow_symlinks=False)) for e in it)
            except OSError:
                continue  # removed or replaced meanwhile
            prefix = entry_name.rstrip("/") + "/"
            for child, child_st in reversed(children):
                stack.append((prefix + child, os.path.join(entry_host, child), child_st))

    def close(self) -> None:
        self.tf.close()


def _kernel_dirs(root: str) -> frozenset[str]:
    """A running container's /proc and /sys: kernel views, not files (Docker's copy sees them
    as the empty directories of the rootfs)."""
    return frozenset(_host(root, p) for p in ("/proc", "/sys"))


def write_tar(path: str, out: BinaryIO, root: str = "/") -> None:
    """Tar `path` to `out` the way Docker's GET /archive does: a file or symlink is one entry
    named after the path's base name; a directory is that name and its contents below it
    ("." and "./x" for a path ending in "/."; "/" and "/x" for the root). A symlink as the last
    component is archived as the link unless the path ends in "/" or "/."."""
    abs_path = container_path(path)
    host = _host(root, abs_path)
    st = os.lstat(host)
    base = go_base(abs_path)
    writer = _Writer(out)
    try:
        if stat.S_ISDIR(st.st_mode):
            writer.tree("" if base == "/" else base, host, st, _kernel_dirs(root))
        else:
            writer.add(base, host, st)
    finally:
        writer.close()


def export_tree(out: BinaryIO, root: str = "/") -> None:
    """The whole tree below `root` as `docker export` writes it: names relative to the root
    ("bin", "bin/sh", ...), no entry for the root itself."""
    writer = _Writer(out)
    try:
        with os.scandir(root) as it:
            top = sorted((e.name, e.stat(follow_symlinks=False)) for e in it)
        for name, st in top:
            writer.tree(name, os.path.join(root, name), st)
    finally:
        writer.close()
