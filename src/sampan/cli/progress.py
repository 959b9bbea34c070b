"""Render the daemon's JSONMessage stream (pull progress) the way `docker pull` does.

On a terminal each layer id owns a line that is rewritten in place (cursor up, erase line,
cursor down); elsewhere only messages without a progress bar are printed, one per line.
An error message in the stream stops rendering with `StreamError`.
"""

from __future__ import annotations

import os

from sampan.cli.format import human_size

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any, TextIO

BAR_MIN_WIDTH = 110  # below this terminal width docker drops the [===>  ] bar
DEFAULT_WIDTH = 200


class StreamError(Exception):
    """An `error` message inside a progress stream (printed to stderr, exit 1)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def terminal_width(out: TextIO) -> int:
    try:
        return os.get_terminal_size(out.fileno()).columns or DEFAULT_WIDTH
    except (OSError, AttributeError, ValueError):
        return DEFAULT_WIDTH


def go_duration(seconds: int) -> str:
    """time.Duration.String() for whole seconds: `0s`, `45s`, `1m30s`, `2h0m5s`."""
    if seconds <= 0:
        return "0s"
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h}h{m}m{s}s"
    if m:
        return f"{m}m{s}s"
    return f"{s}s"


def progress_text(detail: dict[str, Any], width: int, now: float | None = None) -> str:
    """JSONProgress.String(): bar, `  1.2MB/3.4MB` counts and time left, from progressDetail."""
    current = int(detail.get("current") or 0)
    total = int(detail.get("total") or 0)
    units = str(detail.get("units") or "")
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}" if not units else f"{current} {units}"
    percentage = min(50, int(current / total * 100) // 2)
    bar = ""
    if width > BAR_MIN_WIDTH:
        bar = "[" + "=" * percentage + ">" + " " * max(0, 50 - percentage) + "] "
    numbers = ""
    if detail.get("hidecounts"):
        pass
    elif not units:
        numbers = f"{human_size(current):>8}/{human_size(total)}"
        if current > total:
            numbers = f"{human_size(current):>8}"
    else:
        numbers = f"{current}/{total} {units}"
        if current > total:
            numbers = f"{current} {units}"
    left = ""
    start = int(detail.get("start") or 0)
    if current > 0 and start > 0 and percentage < 50 and width > 50:
        import time

        elapsed = (time.time() if now is None else now) - start
        left = " " + go_duration(int(elapsed / current * (total - current)))
    return bar + numbers + left


class ProgressRenderer:
    """Feed decoded messages one by one; writes docker's output to `out`."""

    def __init__(self, out: TextIO, *, tty: bool, width: int | None = None) -> None:
        self.out = out
        self.tty = tty
        self.width = width if width is not None else (terminal_width(out) if tty else DEFAULT_WIDTH)
        self._lines: dict[str, int] = {}
        self.aux: list[dict[str, Any]] = []

    def feed(self, msg: dict[str, Any]) -> None:
        error = msg.get("errorDetail") or {}
        if msg.get("error") or error.get("message"):
            raise StreamError(str(error.get("message") or msg.get("error")), int(error.get("code") or 0))
        if msg.get("aux") is not None:
            self.aux.append(msg["aux"])
            return
        ident = str(msg.get("id") or "")
        has_progress = "progressDetail" in msg
        diff = 0
        if ident and (has_progress or msg.get("progress")):
            line = self._lines.get(ident)
            if line is None:
                line = len(self._lines)
                self._lines[ident] = line
                if self.tty:
                    self.out.write("\n")
            diff = len(self._lines) - line
            if self.tty and diff:
                self.out.write(f"\x1b[{diff}A")
        else:
            self._lines = {}  # a line without an id ends the block of in-place lines
        self._display(msg, ident, has_progress)
        if ident and self.tty and diff:
            self.out.write(f"\x1b[{diff}B")
        self.out.flush()

    def _display(self, msg: dict[str, Any], ident: str, has_progress: bool) -> None:
        status = str(msg.get("status") or "")
        stream = str(msg.get("stream") or "")
        progress = progress_text(msg.get("progressDetail") or {}, self.width) if has_progress else ""
        endl = ""
        if self.tty and not stream and has_progress:
            self.out.write("\x1b[2K\r")
            endl = "\r"
        elif has_progress and progress:
            return  # no progress bars when not on a terminal
        text = f"{ident}: " if ident else ""
        if has_progress and self.tty:
            text += f"{status} {progress}{endl}"
        elif msg.get("progress") and not has_progress:
            text += f"{status} {msg['progress']}{endl}"
        elif stream:
            text += f"{stream}{endl}"
        else:
            text += f"{status}{endl}\n"
        self.out.write(text)

    def render_all(self, messages: Any) -> None:
        for msg in messages:
            self.feed(msg)
