"""Moving bytes between our terminal and a hijacked attach stream, like docker's hijack.go.

Output: stdcopy frames are split to stdout/stderr (raw bytes when the container has a TTY).
Input: a thread copies stdin to the stream and half-closes it at end of input; the detach
sequence (docker's default Ctrl-P Ctrl-Q) is watched for on the way, is still forwarded so
the daemon can detach without closing the container's stdin, and ends the session locally.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

    from sampan.client.transport import Hijacked

_DETACH_GRACE = 1.0  # seconds the daemon gets to end the stream itself after a detach


class DetachMatcher:
    """Watches input for the detach sequence, however the bytes are split across reads."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self._matched = 0

    def feed(self, data: bytes) -> int:
        """Index just past the sequence's last byte in `data`, or -1 when not (yet) complete."""
        if not self.keys:
            return -1
        for i, b in enumerate(data):
            if b == self.keys[self._matched]:
                self._matched += 1
                if self._matched == len(self.keys):
                    self._matched = 0
                    return i + 1
            else:
                self._matched = 1 if b == self.keys[0] else 0
        return -1


def binary_writer(stream: Any) -> Callable[[bytes], None]:
    """Write bytes to a text stream's buffer (decoded for in-memory streams), flushed at once."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        def write(data: bytes) -> None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        return write

    def write_text(data: bytes) -> None:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()
    return write_text


class Demuxer:
    """stdcopy frames (8-byte header: stream id, 3 zero bytes, big-endian size) from a byte stream.

    The same framing as `sampan.api.stdcopy`, kept here without its typing import: every
    `run` pays for what the CLI imports.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        frames = []
        while len(self._buf) >= 8:
            size = int.from_bytes(self._buf[4:8], "big")
            if len(self._buf) < 8 + size:
                break
            frames.append((self._buf[0], bytes(self._buf[8 : 8 + size])))
            del self._buf[: 8 + size]
        return frames


STDERR, SYSTEMERR = 2, 3


def copy_output(conn: Hijacked, *, tty: bool, out: Callable[[bytes], object],
                err: Callable[[bytes], object]) -> None:
    """Copy the stream to out/err until the daemon closes it."""
    demux = None if tty else Demuxer()
    while True:
        try:
            data = conn.read1()
        except OSError:
            return
        if not data:
            return
        if demux is None:
            out(data)
            continue
        for stream, payload in demux.feed(data):
            (err if stream in (STDERR, SYSTEMERR) else out)(payload)


class InputPump:
    """The stdin -> stream thread. `detached` is set once the detach sequence went through."""

    def __init__(self, conn: Hijacked, source: Any, *, detach_keys: bytes, close_at_eof: bool = True) -> None:
        self.conn = conn
        self.source = source
        self.matcher = DetachMatcher(detach_keys)
        self.close_at_eof = close_at_eof
        import threading  # only sessions with stdin need threads (not `run -d`)

        self.detached = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stdin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _read(self) -> bytes:
        fileno = getattr(self.source, "fileno", None)
        if fileno is not None:
            try:
                return os.read(fileno(), 32768)
            except (OSError, ValueError):
                pass
        buffer = getattr(self.source, "buffer", None)
        if buffer is not None:
            return bytes(buffer.read1(32768))
        text = self.source.read(32768)
        return text.encode() if isinstance(text, str) else bytes(text)

    def _run(self) -> None:
        while True:
            try:
                data = self._read()
            except OSError:
                data = b""
            if not data:
                if self.close_at_eof:
                    self.conn.close_write()
                return
            end = self.matcher.feed(data)
            if end >= 0:  # set before the keys go out: the daemon may end the stream at once
                self.detached.set()
            try:
                self.conn.write(data if end < 0 else data[:end])
            except OSError:
                return
            if end >= 0:
                import threading

                threading.Timer(_DETACH_GRACE, self._hang_up).start()
                return

    def _hang_up(self) -> None:
        """The daemon did not end the stream after the detach keys: end it from our side."""
        import socket

        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class RawTerminal:
    """termios raw mode on a terminal fd for the session, restored on exit (docker's -t)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._saved: list[Any] | None = None

    def __enter__(self) -> RawTerminal:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setraw(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)


def terminal_size(stream: Any) -> tuple[int, int] | None:
    """(rows, columns) of the terminal behind `stream`, None when it is not one."""
    try:
        fd = stream.fileno()
        if not os.isatty(fd):
            return None
        size = os.get_terminal_size(fd)
    except (OSError, AttributeError, ValueError):
        return None
    return size.lines, size.columns


def is_terminal(stream: IO[Any] | Any) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return False
