"""Reading a container's json-file log (and its rotated files) for `docker logs`.

`LogCursor` reads the files oldest first, then follows the live file by polling: it notices
rotation (the live file's inode changes) and continues from the start of the new file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sampan.api import stdcopy
from sampan.daemon.containers.views import parse_time

BATCH = 2048  # entries per chunk of a history
READ_LIMIT = 4 << 20  # bytes of the live file read per step


@dataclass(frozen=True)
class LogOptions:
    stdout: bool = True
    stderr: bool = True
    since: float = 0.0
    until: float = 0.0
    timestamps: bool = False
    tail: int = -1  # -1: all
    tty: bool = False


@dataclass(frozen=True)
class Entry:
    stream: str
    text: bytes
    time: str


def parse_tail(text: str) -> int:
    text = text.strip()
    if not text or text == "all":
        return -1
    try:
        return max(int(text), 0)
    except ValueError:
        return -1


def parse_since(text: str) -> float:
    """Docker's since/until query: seconds[.nanoseconds] since the epoch (0: unset)."""
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        from sampan.errdefs import InvalidArgument

        raise InvalidArgument(f"invalid value for since/until: {text}") from None


def _rotated(path: str) -> list[str]:
    out = []
    n = 1
    while os.path.exists(f"{path}.{n}"):
        out.append(f"{path}.{n}")
        n += 1
    return list(reversed(out))


def _reverse_lines(fh: BinaryIO, end: int, block: int = 65536) -> Iterator[bytes]:
    """The whole lines of fh[0:end], last first."""
    pos, rest = end, b""
    while pos > 0:
        start = max(0, pos - block)
        fh.seek(start)
        data = fh.read(pos - start) + rest
        pos = start
        lines = data.split(b"\n")
        rest = lines.pop(0)
        for line in reversed(lines):
            if line:
                yield line
    if rest:
        yield rest


def _decode(line: bytes) -> Entry | None:
    try:
        obj = json.loads(line)
        return Entry(str(obj.get("stream", "stdout")), str(obj.get("log", "")).encode("utf-8", "replace"),
                     str(obj.get("time", "")))
    except (ValueError, AttributeError):
        return None


class LogCursor:
    def __init__(self, path: str, opts: LogOptions, running: Callable[[], bool] = lambda: False) -> None:
        self.path = path
        self.opts = opts
        self.tty = opts.tty
        self.running = running
        self._fh: BinaryIO | None = None
        self._ino = 0
        self._partial = b""

    def _wanted(self, e: Entry) -> bool:
        if e.stream == "stdout" and not self.opts.stdout:
            return False
        if e.stream == "stderr" and not self.opts.stderr:
            return False
        if self.opts.since or self.opts.until:
            t = parse_time(e.time)
            if self.opts.since and t < self.opts.since:
                return False
            if self.opts.until and t > self.opts.until:
                return False
        return True

    def history(self) -> Iterator[list[Entry]]:
        """Batches of what was logged so far (tail applied); the cursor then stands at the live end.

        Batches keep a log of hundreds of MB from being held in memory at once; `--tail N` reads
        the files backwards and stops after N entries.
        """
        if self.opts.tail >= 0:
            yield self._tail(self.opts.tail)
            return
        batch: list[Entry] = []
        for name in _rotated(self.path):
            try:
                with open(name, "rb") as f:
                    for line in f:
                        e = _decode(line)
                        if e is not None and self._wanted(e):
                            batch.append(e)
                            if len(batch) >= BATCH:
                                yield batch
                                batch = []
            except FileNotFoundError:
                continue
        while True:
            before = self._fh.tell() if self._fh is not None else -1
            batch += self.read_new()
            if batch:
                yield batch
                batch = []
            if self._fh is None or self._fh.tell() == before:
                return

    def _tail(self, need: int) -> list[Entry]:
        out: list[Entry] = []  # newest first
        try:
            live = open(self.path, "rb")  # noqa: SIM115 (becomes the cursor's live handle)
        except FileNotFoundError:
            return out
        end = os.fstat(live.fileno()).st_size
        sources: list[tuple[BinaryIO, int, bool]] = [(live, end, False)]
        for name in reversed(_rotated(self.path)):
            try:
                f = open(name, "rb")  # noqa: SIM115 (closed below)
            except FileNotFoundError:
                continue
            sources.append((f, os.fstat(f.fileno()).st_size, True))
        try:
            for fh, size, _ in sources:
                if len(out) >= need:
                    break
                for line in _reverse_lines(fh, size):
                    e = _decode(line)
                    if e is not None and self._wanted(e):
                        out.append(e)
                        if len(out) >= need:
                            break
        finally:
            for fh, _, close in sources:
                if close:
                    fh.close()
        live.seek(end)
        self._fh, self._ino, self._partial = live, os.fstat(live.fileno()).st_ino, b""
        return list(reversed(out))

    def read_new(self) -> list[Entry]:
        """Entries appended since the last call (following rotation)."""
        out: list[Entry] = []
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return out
        if self._fh is None or st.st_ino != self._ino:
            if self._fh is not None:
                out += self._drain()
                self._fh.close()
            self._fh = open(self.path, "rb")  # noqa: SIM115 (kept open while following)
            self._ino = st.st_ino
            self._partial = b""
        elif st.st_size < self._fh.tell():  # truncated (max-file 1)
            self._fh.seek(0)
            self._partial = b""
        out += self._drain(READ_LIMIT)
        return out

    def _drain(self, limit: int = -1) -> list[Entry]:
        assert self._fh is not None
        data = self._partial + self._fh.read(limit)
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for line in lines:
            e = _decode(line)
            if e is not None and self._wanted(e):
                out.append(e)
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def encode(self, entries: list[Entry]) -> bytes:
        parts = []
        for e in entries:
            text = (e.time.encode() + b" " + e.text) if self.opts.timestamps else e.text
            if self.opts.tty:
                parts.append(text)
            else:
                parts.append(stdcopy.frame(stdcopy.STDERR if e.stream == "stderr" else stdcopy.STDOUT, text))
        return b"".join(parts)
