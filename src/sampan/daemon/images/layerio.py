"""Byte plumbing of a layer pull: the download tee, a counting reader, dockerd's layer size."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from sampan.daemon.images.deps import BlobReader
from sampan.errdefs import DataLoss, SampanError

CHUNK = 1 << 20
FAST_LINK = 100e6  # bytes/s above which a streamed layer is not kept as a partial ingest
PROBE_BYTES = 4 << 20  # bytes seen before the link speed is judged


class PullCancelled(SampanError):
    """Another layer of the same pull failed; this one stops early."""


class Digesting:
    """A writer that only hashes: verifies a streamed blob that is not stored."""

    def __init__(self, expected: str, size: int) -> None:
        self.expected, self.size, self.offset = expected, size, 0
        self._hash = hashlib.new(expected.split(":", 1)[0])

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = memoryview(data).nbytes
        if self.offset + n > self.size:
            raise DataLoss(f"blob {self.expected}: more data than the expected size {self.size}")
        self._hash.update(data)
        self.offset += n
        return n

    def verify(self) -> str:
        actual = f"{self._hash.name}:{self._hash.hexdigest()}"
        if self.offset != self.size:
            raise DataLoss(f"blob {self.expected}: unexpected size {self.offset}, expected {self.size}")
        if actual != self.expected:
            raise DataLoss(f"blob {self.expected}: unexpected digest {actual}: failed precondition")
        return actual


class ResumableDigesting(Digesting):
    """Digests a streamed blob and also keeps it as a partial ingest (for resuming after a
    crash) while the download is slow; on a fast link the ingest is dropped at once, since
    writing it costs more CPU than fetching the layer again would."""

    def __init__(self, expected: str, size: int, writer: Any, *, fast: float = FAST_LINK,
                 probe: int = PROBE_BYTES) -> None:
        super().__init__(expected, size)
        self._writer: Any = writer
        self._fast, self._probe = fast, probe
        self._start = time.monotonic()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        n = super().write(data)
        if self._writer is not None:
            if self.offset >= self._probe and self.offset / max(time.monotonic() - self._start, 1e-6) > self._fast:
                self._writer.abort()
                self._writer = None
            else:
                self._writer.write_unhashed(data)
        return n

    @property
    def keeping(self) -> bool:
        return self._writer is not None


class Tee:
    """Reads a blob stream for the unpacker while writing every byte to the content store."""

    def __init__(self, src: BlobReader, writer: Any, on_bytes: Callable[[int], None],
                 cancel: threading.Event) -> None:
        self._src, self._writer, self._on_bytes, self._cancel = src, writer, on_bytes, cancel

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            chunks = []
            while data := self.read(CHUNK):
                chunks.append(data)
            return b"".join(chunks)
        if self._cancel.is_set():
            raise PullCancelled("pull cancelled")
        data = self._src.read(n)
        if data:
            self._writer.write(data)
            self._on_bytes(len(data))
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        if self._cancel.is_set():
            raise PullCancelled("pull cancelled")
        n = self._src.readinto(buf)
        if n:
            self._writer.write(memoryview(buf)[:n])
            self._on_bytes(n)
        return int(n or 0)

    def drain(self) -> None:
        buf = bytearray(CHUNK)
        while self.readinto(buf):
            pass


def diff_size(path: str) -> int:
    """A layer's size as dockerd reports it: bytes of its non-directory entries, links once."""
    seen: set[int] = set()
    total = 0
    stack = [path]
    while stack:
        with os.scandir(stack.pop()) as it:
            for ent in it:
                st = ent.stat(follow_symlinks=False)
                if ent.is_dir(follow_symlinks=False):
                    stack.append(ent.path)
                elif st.st_size and st.st_ino not in seen:
                    seen.add(st.st_ino)
                    total += st.st_size
    return total


class Counting:
    """A file reader that reports how far it got (the `Extracting` progress)."""

    def __init__(self, f: BinaryIO, on_bytes: Callable[[int], None]) -> None:
        self._f, self._on_bytes = f, on_bytes

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._on_bytes(len(data))
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        n = self._f.readinto(buf)  # type: ignore[attr-defined]
        self._on_bytes(int(n or 0))
        return int(n or 0)



