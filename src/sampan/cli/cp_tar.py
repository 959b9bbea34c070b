"""docker cp's tars on the local side: make one from a local path, unpack one into a directory.

Both stream: the tar of a local path is written by a thread into a pipe and read back in
chunks for the upload; an archive from the daemon is unpacked as it arrives. Unpacking
reuses the layer applier's path resolution (parents resolved inside the destination as in a
chroot, `..` breakouts refused) without whiteouts or chown, and like docker's Untar with
NoOverwriteDirNonDir it never replaces a directory by a file or the reverse.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import tarfile
import threading
from collections.abc import Callable, Iterator

from sampan.archive import apply as layer_apply
from sampan.archive import tarstream as ts
from sampan.cli.cp_paths import CopyInfo, Rename, split_path_dir_entry
from sampan.cli.errors import StatusError
from sampan.errdefs import InvalidArgument

_CHUNK = 1 << 16


def _names(info: CopyInfo) -> Iterator[tuple[str, str]]:
    """(local path, entry name) of every entry, parents first, as docker's TarWithOptions names them."""
    source_dir, base = split_path_dir_entry(info.path)
    top = os.path.join(source_dir, base) if base != "." else source_dir
    if base == ".":
        yield top, "."
        prefix = "./"
    else:
        yield top, base
        prefix = base + "/"
    if not os.path.isdir(top) or (os.path.islink(top) and base != "."):
        return
    for root, dirs, files in os.walk(top):
        dirs.sort()
        rel_root = os.path.relpath(root, top)
        for name in dirs + sorted(files):
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            yield os.path.join(root, name), prefix + rel


def tar_chunks(info: CopyInfo, renames: list[Rename]) -> Iterator[bytes]:
    """The tar of a local source, entries renamed, in chunks as a writer thread makes them."""
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def write() -> None:
        try:
            with os.fdopen(write_fd, "wb") as out:
                sink = _Sink(out)
                tf = tarfile.TarFile(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT)  # type: ignore[arg-type]
                for path, name in _names(info):
                    for r in renames:
                        name = r.apply(name)
                    ti = tf.gettarinfo(path, arcname=name)
                    if ti is None:
                        continue  # a socket: docker skips those too
                    ti.mtime = int(ti.mtime)  # whole seconds like docker's (a float needs a PAX record)
                    if ti.isreg():
                        with open(path, "rb") as f:
                            tf.addfile(ti, f)
                    else:
                        tf.addfile(ti)
                sink.write(bytes(2 * tarfile.BLOCKSIZE))  # end of archive, without tarfile's 10 kB record
                tf.closed = True  # type: ignore[attr-defined]
        except BrokenPipeError:
            pass
        except BaseException as e:
            failure.append(e)

    thread = threading.Thread(target=write, name="cp-tar", daemon=True)
    thread.start()
    with os.fdopen(read_fd, "rb") as src:
        while chunk := src.read(_CHUNK):
            yield chunk
    thread.join()
    if failure:
        e = failure[0]
        if isinstance(e, OSError):
            raise StatusError(f"{e.strerror or e}".lower() if e.filename is None else
                              f"open {e.filename}: {(e.strerror or str(e)).lower()}", 1)
        raise e


class _Sink:
    """A write-only file that knows its offset (TarFile wants `tell`, a pipe cannot)."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self.out, self.offset = out, 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset


class CountingReader(io.RawIOBase):
    """A raw stream over `read1()` pieces (a daemon response) that counts what went through."""

    def __init__(self, read1: Callable[[], bytes]) -> None:
        self._read1 = read1
        self._pending = b""
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = self._read1()
            self.total += len(self._pending)
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _CopyApplier(layer_apply.Applier):
    """The layer applier with Untar's copy options: no whiteouts, no chown, no dir/non-dir swaps."""

    def __init__(self, dest: str, renames: list[Rename]) -> None:
        super().__init__(dest, "native")
        self.is_root = False  # NoLchown: files belong to whoever runs the copy
        self.renames = renames

    def apply(self, hdr: ts.TarHeader, reader: ts.TarReader) -> None:
        name = hdr.name
        for r in self.renames:
            name = r.apply(name)
        rel = layer_apply.clean_name(name, self.dest)
        if rel == "":
            return  # the destination itself: docker leaves an existing directory as it is
        parent_rel, _, base = rel.rpartition("/")
        parent = self.resolve_dir(parent_rel, create=True)
        assert parent is not None
        path = parent + "/" + base
        self._check_overwrite(path, hdr)
        if hdr.type == ts.SYM:
            self._check_symlink(path, hdr.linkname)
        hdr.name = rel
        self._create(path, hdr, reader)

    def _check_overwrite(self, path: str, hdr: ts.TarHeader) -> None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        is_dir = stat.S_ISDIR(st.st_mode)
        if is_dir and hdr.type != ts.DIR:
            raise StatusError(f'cannot overwrite directory "{path}" with non-directory "{self.dest}"', 1)
        if not is_dir and hdr.type == ts.DIR:
            raise StatusError(f'cannot overwrite non-directory "{path}" with directory "{self.dest}"', 1)

    def _check_symlink(self, path: str, target: str) -> None:
        joined = posixpath.normpath(posixpath.dirname(path) + "/" + target)  # Go Join: "/abs" stays inside
        if not (joined == self.root or joined.startswith(self.root.rstrip("/") + "/")):
            raise StatusError(f'invalid symlink "{path}" -> "{target}"', 1)


def extract(stream: CountingReader, dest: str, renames: list[Rename]) -> int:
    """Unpack a tar stream into the existing directory `dest`; returns the archive's length.

    The length runs to the end-of-archive blocks, not past them: it is what docker's tar reader
    consumes and reports ("Successfully copied 2.05kB"), whatever padding the daemon sends after.
    """
    reader = ts.TarReader(stream)  # type: ignore[arg-type]
    applier = _CopyApplier(dest, renames)
    try:
        while (hdr := reader.next()) is not None:
            applier.apply(hdr, reader)
        applier.finish()
    except InvalidArgument as e:
        raise StatusError(str(e), 1) from None
    unread = reader.buffered
    return stream.total - unread + min(unread, ts.BLOCK)  # the second end block, peeked at
