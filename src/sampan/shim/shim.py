"""One container's shim: create it through the runtime, pump its output, reap it, serve requests.

Lifecycle: `setup()` creates the container (status `created`), `start` makes it `running`; when
the init is reaped the exit is written to exit.json at once (status `stopped`), then the output
pipes are drained to EOF (or for DRAIN_TIMEOUT), the log's unterminated tails are flushed, attach
streams end, and `wait` requests are answered. `delete` or `shutdown` end the shim.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import time
from collections.abc import Callable
from functools import partial

from sampan.shim import _log, oom
from sampan.shim.args import Options
from sampan.shim.attach import AttachHub, StdinSink
from sampan.shim.control import Conn, ControlServer
from sampan.shim.logfile import JSONFileLog
from sampan.shim.loop import Loop
from sampan.shim.requests import RequestHandler
from sampan.shim.runtime import RuntimeCommandError, RuntimeDriver
from sampan.shim.stdio import READ_SIZE, STDERR, ConsoleStdio, PipeStdio
from sampan.shim.wire import (
    CONSOLE_SOCKET_NAME,
    CREATED,
    EXIT_NAME,
    INIT_PID_NAME,
    RUNTIME_LOG_NAME,
    SOCKET_NAME,
    STOPPED,
    exit_code_of,
    exit_record,
    rfc3339nano,
    write_atomic,
)
from sampan.shim.wire import STDERR as STREAM_STDERR
from sampan.shim.wire import STDOUT as STREAM_STDOUT

DRAIN_TIMEOUT = 2.0  # after the init exits, how long output may stall before it is given up on


class SetupError(Exception):
    """The container could not be created; the message is the runtime's."""


class Shim:
    def __init__(self, opts: Options, loop: Loop) -> None:
        self.opts = opts
        self.loop = loop
        self.runtime = RuntimeDriver(opts.runtime, opts.runtime_root, opts.path(RUNTIME_LOG_NAME), opts.timeout)
        self.status = CREATED
        self.pid = 0
        self.exit: dict[str, object] | None = None  # set when the init is reaped
        self.done = False  # exit known and output drained: waiters are answered
        self._outputs: dict[int, str] = {}
        self._after_done: list[Callable[[], None]] = []
        self._drain_timer = 0
        self._activity = 0  # output reads so far (the drain goes on while this moves)
        self._oom_files: list[str] = []
        self._oom_base = 0
        self.log: JSONFileLog | None = None
        self.stdio: PipeStdio | ConsoleStdio
        self.hub: AttachHub
        self.control: ControlServer

    # --- setup ------------------------------------------------------------------------
    def setup(self) -> None:
        opts = self.opts
        tty = _bundle_terminal(opts.bundle)
        if tty != opts.tty:
            raise SetupError(f"--tty={opts.tty} but process.terminal is {tty} in {opts.bundle}/config.json")
        self.stdio = ConsoleStdio(opts.path(CONSOLE_SOCKET_NAME)) if tty else PipeStdio(opts.stdin)
        if opts.log_path:
            self.log = JSONFileLog(opts.log_path, opts.log_max_size, opts.log_max_file)
        self.loop.on_signal(signal.SIGCHLD, self.reap)
        handler = RequestHandler(self)  # listening before create: a bad socket path fails early
        self.control = ControlServer(self.loop, opts.path(SOCKET_NAME), handler.handle)
        pid_file = opts.path(INIT_PID_NAME)
        try:
            self.runtime.create(opts.id, opts.bundle, pid_file, self.stdio.child_fds(), self.stdio.console_path())
            self.stdio.after_create(opts.timeout)
            with open(pid_file) as f:
                self.pid = int(f.read().strip())
            self._oom_files = oom.counter_files(self.pid)
            self._oom_base = oom.oom_kills(self._oom_files)
        except (RuntimeCommandError, OSError, ValueError) as exc:
            self.stdio.close()
            self.control.close()
            self._cleanup_runtime()
            raise SetupError(str(exc)) from None
        stdin_fd, self.stdio.stdin_fd = self.stdio.stdin_fd, None
        if stdin_fd is not None and not opts.stdin:  # a terminal without OpenStdin takes no input
            os.close(stdin_fd)
            stdin_fd = None
        sink = StdinSink(self.loop, stdin_fd)
        self.hub = AttachHub(self.loop, tty, sink)
        self.hub.on_pause = self._pause_outputs
        self._outputs = dict(self.stdio.outputs)
        self._pause_outputs(False)
        self.reap()  # the init may have died already

    def _cleanup_runtime(self) -> None:
        try:
            self.runtime.delete(self.opts.id, force=True)
        except (RuntimeCommandError, OSError):
            pass

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
                _log.error("writing log %s: %s", self.opts.log_path, exc)
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
    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid and self.exit is None:
                self._init_exited(status)

    def _init_exited(self, status: int) -> None:
        oom_killed = bool(self._oom_files) and oom.oom_kills(self._oom_files) > self._oom_base
        record = exit_record(exit_code_of(status), rfc3339nano(time.time_ns()), self.pid, oom_killed)
        try:
            write_atomic(self.opts.path(EXIT_NAME), json.dumps(record).encode())
        except OSError as exc:
            _log.error("writing %s: %s", EXIT_NAME, exc)
        self.exit = record
        self.status = STOPPED
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
        """Exit known, output drained (or given up on): end attach streams, answer waiters."""
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

    # --- ending -----------------------------------------------------------------------
    def close(self, remove_state: bool) -> None:
        """Stop serving; with remove_state the state directory is removed too."""
        self.control.close()
        self.hub.close_all()
        self.hub.stdin.abandon()
        for fd in list(self._outputs):
            self.loop.unwatch(fd)
            os.close(fd)
        self._outputs.clear()
        if self.log is not None:
            self.log.close()
        self.stdio.close()
        if remove_state:
            remove_state_dir(self.opts.state_dir)
        self.loop.stop()

    def finish_now(self, conn: Conn, message: dict[str, object], remove_state: bool) -> None:
        conn.reply_now(message)
        self.close(remove_state)


def _bundle_terminal(bundle: str) -> bool:
    with open(os.path.join(bundle, "config.json"), "rb") as f:
        config = json.load(f)
    process = config.get("process") if isinstance(config, dict) else None
    return bool(isinstance(process, dict) and process.get("terminal"))


def remove_state_dir(state_dir: str) -> None:
    """Remove the files the shim made and the directory if nothing else is in it."""
    from sampan.shim.wire import SHIM_LOG_NAME, SHIM_PID_NAME

    for name in (SOCKET_NAME, SHIM_PID_NAME, INIT_PID_NAME, EXIT_NAME, RUNTIME_LOG_NAME, CONSOLE_SOCKET_NAME,
                 SHIM_LOG_NAME):
        try:
            os.unlink(os.path.join(state_dir, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(state_dir)
    except OSError:
        pass
