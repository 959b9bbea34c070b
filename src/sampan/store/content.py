"""Content-addressed blob store: `blobs/<alg>/<hex>` plus resumable ingests.

A blob becomes visible under its digest only by an atomic rename after its bytes were
fsynced and verified, so a crash at any instant leaves either no blob or the right one.
Ingests live in `ingest/<sha256 of ref>/` (`data`, `ref`, `expected`, `size`, `lock`) and
survive crashes: a new writer on the same ref continues at the partial data's end.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO

from sampan.digest import Digest
from sampan.errdefs import DataLoss, InvalidArgument, NotFound, Unavailable

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_STALE_TMP_SECONDS = 24 * 3600


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_small(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


class ContentStore:
    """Blobs by digest under `root`; thread-safe, and safe across processes through flock."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._blobs = os.path.join(self.root, "blobs")
        self._ingest = os.path.join(self.root, "ingest")
        for alg in ("sha256", "sha512"):
            os.makedirs(os.path.join(self._blobs, alg), exist_ok=True)
        os.makedirs(self._ingest, exist_ok=True)
        self._mu = threading.Lock()
        self._active_refs: set[str] = set()
        self._clean_stale_tmp()

    # -- reading ---------------------------------------------------------------------------

    def _blob_path(self, digest: str) -> str:
        d = Digest.parse(digest)  # validates: no path can be smuggled through a digest
        return os.path.join(self._blobs, d.algorithm, d.hex)

    def has(self, digest: str) -> bool:
        return os.path.isfile(self._blob_path(digest))

    def path(self, digest: str) -> str:
        p = self._blob_path(digest)
        if not os.path.isfile(p):
            raise NotFound(f"content digest {digest}: not found")
        return p

    def size(self, digest: str) -> int:
        try:
            return os.stat(self._blob_path(digest)).st_size
        except FileNotFoundError:
            raise NotFound(f"content digest {digest}: not found")

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self._blob_path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"content digest {digest}: not found")

    def read_bytes(self, digest: str, max_size: int | None = None) -> bytes:
        with self.open(digest) as f:
            if max_size is not None:
                size = os.fstat(f.fileno()).st_size
                if size > max_size:
                    raise InvalidArgument(f"content {digest} is {size} bytes, larger than the limit {max_size}")
            return f.read()

    def list(self) -> Iterator[tuple[str, int]]:
        for alg in ("sha256", "sha512"):
            base = os.path.join(self._blobs, alg)
            with os.scandir(base) as it:
                for ent in it:
                    digest = f"{alg}:{ent.name}"
                    try:
                        Digest.parse(digest)
                        yield digest, ent.stat(follow_symlinks=False).st_size
                    except (InvalidArgument, FileNotFoundError):
                        continue

    def delete(self, digest: str) -> None:
        try:
            os.unlink(self._blob_path(digest))
        except FileNotFoundError:
            raise NotFound(f"content digest {digest}: not found")

    # -- writing ---------------------------------------------------------------------------

    def write_blob(self, data: bytes, expected: str | None = None) -> str:
        """Store `data` at once (configs, manifests); returns its digest."""
        alg = Digest.parse(expected).algorithm if expected else "sha256"
        digest = str(Digest(alg, hashlib.new(alg, data).hexdigest()))
        if expected is not None and digest != expected:
            raise DataLoss(f"unexpected commit digest {digest}, expected {expected}: failed precondition")
        target = self._blob_path(digest)
        if os.path.exists(target):
            return digest
        tmp = os.path.join(self._ingest, f".tmp-{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.rename(tmp, target)
        _fsync_dir(os.path.dirname(target))
        return digest

    def _ingest_dir(self, ref: str) -> str:
        return os.path.join(self._ingest, hashlib.sha256(ref.encode()).hexdigest())

    def writer(self, ref: str, expected: str | None = None, size: int | None = None) -> ContentWriter:
        """Open (or resume) the ingest for `ref`; a second writer on the same ref is Unavailable."""
        if expected is not None:
            Digest.parse(expected)
        return ContentWriter(self, ref, self._ingest_dir(ref), expected, size)

    def abort(self, ref: str) -> None:
        """Drop the ingest for `ref` (NotFound if there is none, Unavailable while it is written)."""
        d = self._ingest_dir(ref)
        if not os.path.isdir(d):
            raise NotFound(f"ingest ref {ref}: not found")
        with self._lock_ref(ref, d):
            shutil.rmtree(d, ignore_errors=True)

    def ingests(self) -> Iterator[tuple[str, int]]:
        """(ref, bytes so far) of every ingest on disk."""
        with os.scandir(self._ingest) as it:
            for ent in it:
                if ent.name.startswith("."):
                    continue
                ref = _read_small(os.path.join(ent.path, "ref"))
                try:
                    size = os.stat(os.path.join(ent.path, "data")).st_size
                except FileNotFoundError:
                    size = 0
                if ref is not None:
                    yield ref, size

    # -- locking ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock_ref(self, ref: str, ingest_dir: str) -> Iterator[None]:
        fd = self._acquire(ref, ingest_dir)
        try:
            yield
        finally:
            self._release(ref, fd)

    def _acquire(self, ref: str, ingest_dir: str) -> int:
        """Lock `ref` in this process (set) and across processes (flock on ingest/<h>/lock)."""
        with self._mu:
            if ref in self._active_refs:
                raise Unavailable(f"ref {ref} locked")
            self._active_refs.add(ref)
        try:
            os.makedirs(ingest_dir, exist_ok=True)
            fd = os.open(os.path.join(ingest_dir, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise Unavailable(f"ref {ref} locked")
            return fd
        except BaseException:
            with self._mu:
                self._active_refs.discard(ref)
            raise

    def _release(self, ref: str, fd: int) -> None:
        os.close(fd)
        with self._mu:
            self._active_refs.discard(ref)

    def _clean_stale_tmp(self) -> None:
        now = time.time()
        with os.scandir(self._ingest) as it:
            for ent in it:
                if ent.name.startswith(".tmp-"):
                    with contextlib.suppress(FileNotFoundError):
                        if now - ent.stat().st_mtime > _STALE_TMP_SECONDS:
                            os.unlink(ent.path)


class ContentWriter:
    """One ingest being written; hashes as it writes, so commit never re-reads the data."""

    def __init__(
        self, store: ContentStore, ref: str, ingest_dir: str, expected: str | None, size: int | None
    ) -> None:
        self._store = store
        self.ref = ref
        self.expected = expected
        self.total = size
        self._dir = ingest_dir
        self._lock_fd = store._acquire(ref, ingest_dir)
        self._fd = -1
        self._unhashed = False
        try:
            self._open_ingest()
        except BaseException:
            if self._fd >= 0:
                os.close(self._fd)
            store._release(ref, self._lock_fd)
            raise

    def _open_ingest(self) -> None:
        alg = Digest.parse(self.expected).algorithm if self.expected else "sha256"
        self._hash = hashlib.new(alg)
        data_path = os.path.join(self._dir, "data")
        same = (
            _read_small(os.path.join(self._dir, "ref")) == self.ref
            and _read_small(os.path.join(self._dir, "expected")) == (self.expected or "")
        )
        self._fd = os.open(data_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        existing = os.fstat(self._fd).st_size
        if not same or (self.total is not None and existing > self.total):
            os.ftruncate(self._fd, 0)
            existing = 0
            for name, value in (("ref", self.ref), ("expected", self.expected or "")):
                with open(os.path.join(self._dir, name), "w", encoding="utf-8") as f:
                    f.write(value)
        with open(os.path.join(self._dir, "size"), "w", encoding="utf-8") as f:
            f.write("" if self.total is None else str(self.total))
        # Resume: re-hash what a previous (possibly crashed) writer left behind.
        buf = bytearray(_CHUNK)
        offset = 0
        while offset < existing:
            n = os.preadv(self._fd, [buf], offset)
            if n <= 0:
                break
            self._hash.update(memoryview(buf)[:n])
            offset += n
        self.offset = offset
        os.lseek(self._fd, offset, os.SEEK_SET)
        if offset:
            log.debug("resuming ingest %s at offset %d", self.ref, offset)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._fd < 0:
            raise InvalidArgument(f"ingest {self.ref} is closed")
        n = memoryview(data).nbytes
        if self.total is not None and self.offset + n > self.total:
            self.abort()
            raise DataLoss(f"ingest {self.ref}: more data than the expected size {self.total}")
        self._hash.update(data)
        _write_all(self._fd, data)
        self.offset += n
        return n

    def write_unhashed(self, data: bytes | bytearray | memoryview) -> int:
        """Append bytes that the caller digests itself (a partial ingest kept only to resume
        a later download); this writer can then no longer verify or commit."""
        if self._fd < 0:
            raise InvalidArgument(f"ingest {self.ref} is closed")
        self._unhashed = True
        _write_all(self._fd, data)
        n = memoryview(data).nbytes
        self.offset += n
        return n

    def write_from(self, stream: BinaryIO, chunk: int = _CHUNK) -> int:
        """Copy `stream` to EOF in large chunks through one reusable buffer; returns bytes copied."""
        buf = bytearray(chunk)
        view = memoryview(buf)
        copied = 0
        readinto = getattr(stream, "readinto", None)
        while True:
            if readinto is not None:
                n = readinto(view)
                if not n:
                    break
                self.write(view[:n])
            else:
                data = stream.read(chunk)
                if not data:
                    break
                n = len(data)
                self.write(data)
            copied += n
        return copied

    def digest(self) -> str:
        return f"{self._hash.name}:{self._hash.hexdigest()}"

    def verify(self) -> str:
        """Check size and digest of what was written without publishing it (a blob needed only
        while it is unpacked); returns the digest. A mismatch aborts the ingest (DataLoss)."""
        if self._fd < 0:
            raise InvalidArgument(f"ingest {self.ref} is closed")
        if self._unhashed:
            raise InvalidArgument(f"ingest {self.ref} was written unhashed: it cannot be verified here")
        actual = self.digest()
        if self.total is not None and self.offset != self.total:
            self.abort()
            raise DataLoss(
                f"commit failed for {self.ref}: unexpected commit size {self.offset}, expected {self.total}"
            )
        if self.expected is not None and actual != self.expected:
            self.abort()
            raise DataLoss(
                f"commit failed for {self.ref}: unexpected commit digest {actual}, "
                f"expected {self.expected}: failed precondition"
            )
        return actual

    def commit(self) -> str:
        """Verify and publish the blob; returns its digest. The ingest is gone afterwards."""
        if self._fd < 0:
            raise InvalidArgument(f"ingest {self.ref} is closed")
        os.fsync(self._fd)
        actual = self.verify()
        target = self._store._blob_path(actual)
        os.fchmod(self._fd, 0o444)
        os.close(self._fd)
        self._fd = -1
        if not os.path.exists(target):
            os.rename(os.path.join(self._dir, "data"), target)
            _fsync_dir(os.path.dirname(target))
        self._finish()
        return actual

    def abort(self) -> None:
        """Discard the ingest (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._finish()

    def _finish(self) -> None:
        if self._lock_fd < 0:
            return
        shutil.rmtree(self._dir, ignore_errors=True)
        self._store._release(self.ref, self._lock_fd)
        self._lock_fd = -1

    def close(self) -> None:
        """Release the ingest without committing, keeping the partial data for a later resume."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock_fd >= 0:
            self._store._release(self.ref, self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> ContentWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif self._lock_fd >= 0:
            self.close()
