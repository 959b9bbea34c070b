"""The container log in Docker's json-file format, written by the shim itself (like conmon).

One JSON object per line: `{"log":"text\\n","stream":"stdout","time":"<RFC3339Nano>"}`. Lines are
split like Docker's log copier: a line is logged when its newline arrives; a line that fills a
16 KiB buffer without a newline is logged in 16 KiB pieces without a trailing newline; what is
left unterminated when the stream ends is logged as is. Rotation follows Docker's `max-size`
(checked before each message, so a file may pass it by one message) and `max-file` (keep
`log`, `log.1` ... `log.<max-file - 1>`; with one file the log is truncated instead).
"""

from __future__ import annotations

import json
import json.encoder
import os
import time

from sampan.shim.wire import rfc3339nano

# Docker's copier reads into a 16 KiB buffer; a line that does not fit is split at that size.
MAX_LINE = 16 * 1024


class LineSplitter:
    """Cuts one stream's bytes into log messages: (payload, timestamp_ns), newline kept if any."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max = max_line
        self._pending = b""
        self._since = 0  # time the first pending byte was read

    def feed(self, data: bytes, now_ns: int) -> list[tuple[bytes, int]]:
        if self._pending:
            data = self._pending + data
            first_ts = self._since
        else:
            first_ts = now_ns
        lines = data.split(b"\n")
        rest = lines.pop()  # after the last newline: not a line yet
        out: list[tuple[bytes, int]] = []
        limit = self._max
        ts = first_ts
        for line in lines:
            if len(line) < limit:
                out.append((line + b"\n", ts))
            else:
                self._cut(line, ts, out)
                out.append((line[len(line) // limit * limit:] + b"\n", ts))
            ts = now_ns
        if len(rest) >= limit:
            self._cut(rest, ts, out)
            rest = rest[len(rest) // limit * limit:]
            ts = now_ns
        self._pending = rest
        self._since = ts
        return out

    def _cut(self, line: bytes, ts: int, out: list[tuple[bytes, int]]) -> None:
        """The full 16 KiB pieces of a long line, logged without a newline like Docker's copier."""
        limit = self._max
        for start in range(0, len(line) // limit * limit, limit):
            out.append((line[start:start + limit], ts))

    def flush(self) -> list[tuple[bytes, int]]:
        """The unterminated tail, logged when the stream ends."""
        if not self._pending:
            return []
        out = [(self._pending, self._since)]
        self._pending = b""
        return out


_encode_str = json.encoder.encode_basestring  # the C encoder: escapes quotes, backslashes, controls
_HTML = ("<", ">", "&", "\u2028", "\u2029")


def _html_safe(text: str) -> str:
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def encode_entry(payload: bytes, stream: str, ts_ns: int) -> bytes:
    """One json-file line, escaped like Docker's writer (HTML-safe, U+2028/9 escaped)."""
    return encode_entries([(payload, ts_ns)], stream)[0]


def encode_entries(entries: list[tuple[bytes, int]], stream: str) -> list[bytes]:
    """json-file lines for several messages of one stream (timestamps formatted once each)."""
    tails: dict[int, str] = {}
    out = []
    for payload, ts in entries:
        tail = tails.get(ts)
        if tail is None:
            tail = tails[ts] = f',"stream":"{stream}","time":"{rfc3339nano(ts)}"}}\n'
        text = _encode_str(payload.decode("utf-8", "replace"))
        for ch in _HTML:
            if ch in text:
                text = _html_safe(text)
                break
        out.append(('{"log":' + text + tail).encode())
    return out


class JSONFileLog:
    """Appends entries to PATH with Docker's rotation; max_size <= 0 means unbounded."""

    def __init__(self, path: str, max_size: int = -1, max_file: int = 1) -> None:
        if max_file < 1:
            raise ValueError(f"max-file must be at least 1, got {max_file}")
        self.path = path
        self.max_size = max_size
        self.max_file = max_file
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._splitters = {"stdout": LineSplitter(), "stderr": LineSplitter()}

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        os.fchmod(fd, 0o640)
        return fd

    def write(self, stream: str, data: bytes, now_ns: int | None = None) -> None:
        """Log the complete lines of a chunk read from `stream`; keep the rest pending."""
        ts = time.time_ns() if now_ns is None else now_ns
        self._write_entries(stream, self._splitters[stream].feed(data, ts))

    def flush_stream(self, stream: str) -> None:
        """The stream ended: log its unterminated tail."""
        self._write_entries(stream, self._splitters[stream].flush())

    def close(self) -> None:
        for stream in self._splitters:
            self.flush_stream(stream)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _write_entries(self, stream: str, entries: list[tuple[bytes, int]]) -> None:
        if not entries:
            return
        lines = encode_entries(entries, stream)
        if self.max_size <= 0:
            self._emit(b"".join(lines))
            return
        batch = bytearray()
        for line in lines:
            if self._size + len(batch) >= self.max_size:
                self._emit(batch)
                batch.clear()
                self._rotate()
            batch += line
        self._emit(batch)

    def _emit(self, batch: bytes | bytearray) -> None:
        view = memoryview(batch)
        while view:
            view = view[os.write(self._fd, view):]
        self._size += len(batch)

    def _rotate(self) -> None:
        if self.max_file < 2:
            os.ftruncate(self._fd, 0)
            self._size = 0
            return
        for i in range(self.max_file - 1, 1, -1):
            try:
                os.rename(f"{self.path}.{i - 1}", f"{self.path}.{i}")
            except FileNotFoundError:
                pass
        os.close(self._fd)
        os.rename(self.path, f"{self.path}.1")
        self._fd = self._open()
        self._size = 0
