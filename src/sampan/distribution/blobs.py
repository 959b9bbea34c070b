"""A blob download that survives dropped connections.

Layers are large and connections break; the reader keeps its position and, when a response
ends early or resets, asks again with `Range: bytes=<pos>-` (a few times, with a short
back-off) so the caller sees one continuous stream. The caller hashes what it reads, so the
reader only guarantees it never returns bytes from the wrong offset.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from sampan import errdefs
from sampan.distribution.errors import NetworkError
from sampan.distribution.transport import TRANSFER_ERRORS, Exchange

log = logging.getLogger(__name__)

MAX_RESUMES = 3
RESUME_BACKOFF = (0.05, 0.2, 0.5)
#: reading this much after a resume earns the reader a fresh set of retries
PROGRESS_RESETS_RETRIES = 8 * 1024 * 1024
_CONTENT_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_SKIP_CHUNK = 1024 * 1024

#: opens the blob at an offset; returns a 200 or 206 exchange or raises an errdefs error
Opener = Callable[[int], Exchange]


class BlobReader:
    """File-like reader over a registry blob from `offset`; `size` is the blob's total size."""

    def __init__(self, opener: Opener, digest: str, size: int, offset: int = 0) -> None:
        self._opener = opener
        self.digest = digest
        self.size = size
        self._pos = offset
        self._ex: Exchange | None = None
        self._closed = False
        self._failures = 0  # resumes since the last real progress
        self._resumed_at = offset
        if 0 < size <= offset:
            return  # nothing left to fetch (a fully downloaded ingest): no request at all
        for attempt in range(MAX_RESUMES + 1):
            try:
                self._open()
                break
            except (NetworkError, *TRANSFER_ERRORS) as e:
                self._drop()
                if attempt == MAX_RESUMES:
                    if isinstance(e, NetworkError):
                        raise
                    raise errdefs.System(f"failed to fetch blob {digest}: {e}") from e
                log.info("opening blob %s failed (%s); retrying", digest, e)
                time.sleep(RESUME_BACKOFF[min(attempt, len(RESUME_BACKOFF) - 1)])

    @property
    def offset(self) -> int:
        """Absolute position in the blob of the next byte read returns."""
        return self._pos

    def _open(self) -> None:
        ex = self._opener(self._pos)
        start = 0
        if ex.status == 206:
            m = _CONTENT_RANGE_RE.match(ex.header("Content-Range").strip())
            if m is None:
                ex.close()
                raise errdefs.System(f"invalid Content-Range for {self.digest}: {ex.header('Content-Range')!r}")
            start = int(m.group(1))
            if m.group(3) != "*" and self.size <= 0:
                self.size = int(m.group(3))
        elif self.size <= 0 and ex.header("Content-Length").isdigit():
            self.size = int(ex.header("Content-Length"))  # a 200 carries the whole blob
        if start > self._pos:
            ex.close()
            raise errdefs.System(f"registry answered range of {self.digest} from {start}, wanted {self._pos}")
        self._ex = ex
        if start < self._pos:  # the server ignored or widened the range: skip what we have
            self._skip(self._pos - start)

    def _skip(self, n: int) -> None:
        assert self._ex is not None
        buf = bytearray(min(n, _SKIP_CHUNK))
        view = memoryview(buf)
        while n > 0:
            got = self._ex.resp.readinto(view[: min(n, len(buf))])
            if not got:
                raise ConnectionResetError("response ended while skipping to the resume offset")
            n -= got

    def readinto(self, buf: bytearray | memoryview) -> int:
        """Fill up to len(buf) bytes; 0 only at the end of the blob."""
        if self._closed:
            raise ValueError("read from a closed blob reader")
        view = memoryview(buf).cast("B")
        if self.size > 0:
            remaining = self.size - self._pos
            if remaining <= 0:
                self._finish()
                return 0
            view = view[:remaining]
        if not len(view):
            return 0
        while True:
            error: BaseException | None = None
            n = 0
            if self._ex is not None:
                try:
                    n = self._ex.resp.readinto(view) or 0
                except TRANSFER_ERRORS as e:
                    error = e
            if n > 0:
                self._pos += n
                return n
            if error is None and self._ex is not None and (self.size <= 0 or self._pos >= self.size):
                self._finish()
                return 0
            if self._pos - self._resumed_at >= PROGRESS_RESETS_RETRIES:
                self._failures = 0  # it broke again after real progress: a fresh budget
            self._failures += 1
            self._resumed_at = self._pos
            self._drop()
            if self._failures > MAX_RESUMES:
                raise errdefs.DataLoss(
                    f"failed to read blob {self.digest}: unexpected EOF at {self._pos} of {self.size} bytes"
                    + (f" ({error})" if error else "")
                )
            log.info("blob %s broke at %d of %d bytes (%s); resuming", self.digest, self._pos, self.size,
                     error or "short response")
            time.sleep(RESUME_BACKOFF[min(self._failures - 1, len(RESUME_BACKOFF) - 1)])
            try:
                self._open()
            except (errdefs.System, errdefs.Unavailable, *TRANSFER_ERRORS) as e:
                log.info("resuming blob %s failed: %s", self.digest, e)
                self._drop()

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            chunks: list[bytes] = []
            while True:
                chunk = self.read(1024 * 1024)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        buf = bytearray(n)
        got = self.readinto(buf)
        if got == n:
            return bytes(buf)
        return bytes(memoryview(buf)[:got])

    def readable(self) -> bool:
        return True

    def _finish(self) -> None:
        if self._ex is not None:
            self._ex.release() if self._ex.resp.isclosed() else self._ex.close()
            self._ex = None

    def _drop(self) -> None:
        if self._ex is not None:
            self._ex.close()
            self._ex = None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finish()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
