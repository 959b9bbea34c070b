"""One process whose stdio the shim owns: the container's init, or a process exec'd into it.

It pumps the process's output to the log (init only) and to its attach clients, feeds its stdin,
and when the process is reaped drains what is left of its output (for DRAIN_TIMEOUT after the
output stalls), flushes the log's unterminated tails, ends the attach streams and then runs the
`when_done` callbacks (answers to `wait`, a pending `delete`).
"""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Callable
from functools import partial

from sampan.shim import _log
from sampan.shim.attach import AttachHub, StdinSink
from sampan.shim.logfile import JSONFileLog
from sampan.shim.loop import Loop
from sampan.shim.stdio import READ_SIZE, STDERR, ConsoleStdio, PipeStdio
from sampan.shim.wire import STDERR as STREAM_STDERR
from sampan.shim.wire import STDOUT as STREAM_STDOUT
from sampan.shim.wire import exit_code_of, exit_record, rfc3339nano

DRAIN_TIMEOUT = 2.0  # after the process exits, how long its output may stall before it is given up on


class Process:
    def __init__(self, loop: Loop, stdio: PipeStdio | ConsoleStdio, log: JSONFileLog | None) -> None:
        self.loop = loop
        self.stdio = stdio
        self.log = log
        self.pid = 0
        self.exit: dict[str, object] | None = None  # set when the process is reaped
        self.done = False  # exit known and output drained
        self.hub: AttachHub
        self._outputs: dict[int, str] = {}
        self._after_done: list[Callable[[], None]] = []
        self._drain_timer = 0
        self._activity = 0  # output reads so far (the drain goes on while this moves)

    @property
    def tty(self) -> bool:
        return self.stdio.tty

    def begin(self, pid: int, stdin_open: bool) -> None:
        """The runtime made the process: take over its stdio."""
        self.pid = pid
        stdin_fd, self.stdio.stdin_fd = self.stdio.stdin_fd, None
        if stdin_fd is not None and not stdin_open:  # a terminal without OpenStdin takes no input
            os.close(stdin_fd)
            stdin_fd = None
        self.hub = AttachHub(self.loop, self.stdio.tty, StdinSink(self.loop, stdin_fd))
        self.hub.on_pause = self._pause_outputs
        self._outputs = self.stdio.take_outputs()
        self._pause_outputs(False)

    # --- output -----------------------------------------------------------------------
    def _pause_outputs(self, paused: bool) -> None:
        for fd, name in self._outputs.items():
            if paused:
                self.loop.unwatch(fd)
            else:
                self.loop.watch(fd, selectors.EVENT_READ, partial(self._on_output, fd, name))

    def _on_output(self, fd: int, name: str, _mask: int = 0) -> None:
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's last slave closed
            data = b""
        if not data:
            self._output_ended(fd, name)
            return
        self._activity += 1
        if self.log is not None:
            try:
                self.log.write(name, data)
            except OSError as exc:
                _log.error("writing log %s: %s", self.log.path, exc)
        self.hub.broadcast(STREAM_STDERR if name == STDERR else STREAM_STDOUT, data)

    def _output_ended(self, fd: int, name: str) -> None:
        self.loop.unwatch(fd)
        self._outputs.pop(fd, None)
        os.close(fd)
        if self.log is not None:
            self.log.flush_stream(name)
        if not self._outputs and self.exit is not None:
            self._finish()

    # --- exit -------------------------------------------------------------------------
    def exited(self, wait_status: int, oom_killed: bool = False) -> dict[str, object]:
        """The process was reaped: its exit record; the drain starts."""
        self.exit = exit_record(exit_code_of(wait_status), rfc3339nano(time.time_ns()), self.pid, oom_killed)
        return self.exit

    def drain(self) -> None:
        """Read what is left of the output, then finish (call after `exited`)."""
        self.hub.stdin.abandon()
        self.hub.disable_backpressure()  # the rest of the output is bounded: read it all now
        if not self._outputs:
            self._finish()
        else:
            self._drain_timer = self.loop.call_later(DRAIN_TIMEOUT, partial(self._drain_tick, self._activity))

    def _drain_tick(self, seen: int) -> None:
        """Output still open after the exit: go on while it flows, give up once it stalls."""
        if self._activity != seen and not self.done:
            self._drain_timer = self.loop.call_later(DRAIN_TIMEOUT, partial(self._drain_tick, self._activity))
        else:
            self._finish()

    def _finish(self) -> None:
        """Exit known, output drained (or given up on): end attach streams, run callbacks."""
        if self.done:
            return
        self.done = True
        self.loop.cancel(self._drain_timer)
        for fd, name in list(self._outputs.items()):
            self._output_ended(fd, name)
        self.hub.finish()
        callbacks, self._after_done = self._after_done, []
        for callback in callbacks:
            callback()

    def when_done(self, callback: Callable[[], None]) -> None:
        """Run callback once the exit is known and the output drained (now if it is)."""
        if self.done:
            callback()
        else:
            self._after_done.append(callback)

    def close(self) -> None:
        """Let go of everything (the shim is ending)."""
        if hasattr(self, "hub"):
            self.hub.close_all()
            self.hub.stdin.abandon()
        for fd in list(self._outputs):
            self.loop.unwatch(fd)
            os.close(fd)
        self._outputs.clear()
        if self.log is not None:
            self.log.close()
        self.stdio.close()
