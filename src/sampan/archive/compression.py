"""Layer (de)compression: gzip through isal (inflate in a helper thread), zstd, or plain.

Registries and builders sometimes label a layer with the wrong media type, so callers can
sniff the first bytes with `detect_compression`, as Docker does.
"""

from __future__ import annotations

import gzip
import io
import queue
import threading
from typing import Any, BinaryIO

import zstandard
from isal import igzip_threaded, isal_zlib

from sampan.errdefs import InvalidArgument

_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BLOCK = 1 << 20
# What a damaged compressed stream raises (BadGzipFile is an OSError, so it must be named).
CORRUPTION_ERRORS: tuple[type[BaseException], ...] = (  # type: ignore[assignment]
    EOFError,
    gzip.BadGzipFile,
    isal_zlib.error,
    zstandard.ZstdError,
)


def detect_compression(head: bytes) -> str:
    """"gzip", "zstd" or "" (plain) from a stream's first bytes; bzip2/xz are refused."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    if head.startswith(_BZIP2_MAGIC) or head.startswith(_XZ_MAGIC):
        raise InvalidArgument("unsupported layer compression (bzip2/xz)")
    return ""


def decompressor(stream: BinaryIO, compression: str) -> BinaryIO:
    """A readable (with `readinto`) stream of the uncompressed bytes of `stream`."""
    if compression == "gzip":
        # threads=1: one background thread reads and inflates (isal releases the GIL), so
        # hashing and writing in the caller's thread overlap with inflating.
        return igzip_threaded.open(stream, "rb", threads=1, block_size=_BLOCK)
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(
            stream, read_size=_BLOCK, closefd=False, read_across_frames=True
        )
        return Prefetcher(reader)  # type: ignore[return-value]
    if compression == "":
        return stream
    raise InvalidArgument(f"unsupported layer compression {compression!r}")


class Prefetcher(io.RawIOBase):
    """Reads `source` in a background thread (decompressors release the GIL), so the
    consumer's hashing and writing overlap with decompression. Closing stops the thread."""

    def __init__(self, source: BinaryIO, block: int = _BLOCK, depth: int = 4) -> None:
        super().__init__()
        self._source = source
        self._block = block
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(depth)
        self._stop = threading.Event()
        self._current = memoryview(b"")
        self._eof = False
        self._thread = threading.Thread(target=self._run, name="layer-decompress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        item: bytes | BaseException
        while not self._stop.is_set():
            try:
                item = self._source.read(self._block)
            except BaseException as e:  # handed to the consumer
                item = e
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not isinstance(item, bytes) or not item:
                return

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if not self._current:
            if self._eof:
                return 0
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._eof = True
                raise item
            if not item:
                self._eof = True
                return 0
            self._current = memoryview(item)
        n = min(len(buf), len(self._current))
        buf[:n] = self._current[:n]
        self._current = self._current[n:]
        return n

    def close(self) -> None:
        if self.closed:
            return
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5)  # a read blocked on the network ends with its stream
        super().close()
