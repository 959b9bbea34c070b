"""One container's shim: create it through the runtime, pump its output, reap it, serve requests.

Lifecycle: `setup()` creates the container (status `created`), `start` makes it `running`; when
the init is reaped the exit is written to exit.json at once (status `stopped`), then its output
is drained (process.py) and `wait` requests are answered. `delete` or `shutdown` end the shim.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable

from sampan.shim import _log, oom
from sampan.shim.args import Options
from sampan.shim.attach import AttachHub
from sampan.shim.control import Conn, ControlServer
from sampan.shim.logfile import JSONFileLog
from sampan.shim.loop import Loop
from sampan.shim.process import Process
from sampan.shim.requests import RequestHandler
from sampan.shim.runtime import RuntimeCommandError, RuntimeDriver
from sampan.shim.stdio import ConsoleStdio, PipeStdio
from sampan.shim.stdio import unlink_quietly as _unlink
from sampan.shim.wire import (
    CONSOLE_SOCKET_NAME,
    CREATED,
    EXIT_NAME,
    INIT_PID_NAME,
    RUNTIME_LOG_NAME,
    SOCKET_NAME,
    STOPPED,
    write_atomic,
)


class SetupError(Exception):
    """The container could not be created; the message is the runtime's."""


class Shim:
    def __init__(self, opts: Options, loop: Loop) -> None:
        self.opts = opts
        self.loop = loop
        self.runtime = RuntimeDriver(opts.runtime, opts.runtime_root, opts.path(RUNTIME_LOG_NAME), opts.timeout)
        self.status = CREATED
        self.init: Process
        self.execs: dict[str, Process] = {}  # by exec id, kept after they exit for their status
        self._exec_pids: dict[int, Process] = {}
        self._exec_seq = 0
        self.control: ControlServer
        self._oom_files: list[str] = []
        self._oom_base = 0

    # The init's state, as the requests see it.
    @property
    def pid(self) -> int:
        return self.init.pid

    @property
    def exit(self) -> dict[str, object] | None:
        return self.init.exit

    @property
    def done(self) -> bool:
        return self.init.done

    @property
    def hub(self) -> AttachHub:
        return self.init.hub

    @property
    def stdio(self) -> PipeStdio | ConsoleStdio:
        return self.init.stdio

    def when_done(self, callback: Callable[[], None]) -> None:
        """Run callback once the init exited and its output is drained (now if so)."""
        self.init.when_done(callback)

    # --- setup ------------------------------------------------------------------------
    def setup(self) -> None:
        opts = self.opts
        tty = _bundle_terminal(opts.bundle)
        if tty != opts.tty:
            raise SetupError(f"--tty={opts.tty} but process.terminal is {tty} in {opts.bundle}/config.json")
        stdio = ConsoleStdio(opts.path(CONSOLE_SOCKET_NAME)) if tty else PipeStdio(opts.stdin)
        log = JSONFileLog(opts.log_path, opts.log_max_size, opts.log_max_file) if opts.log_path else None
        self.init = Process(self.loop, stdio, log)
        self.loop.on_signal(signal.SIGCHLD, self.reap)
        handler = RequestHandler(self)  # listening before create: a bad socket path fails early
        self.control = ControlServer(self.loop, opts.path(SOCKET_NAME), handler.handle)
        pid_file = opts.path(INIT_PID_NAME)
        try:
            self.runtime.create(opts.id, opts.bundle, pid_file, stdio.child_fds(), stdio.console_path())
            stdio.after_create(opts.timeout)
            with open(pid_file) as f:
                pid = int(f.read().strip())
            self._oom_files = oom.counter_files(pid)
            self._oom_base = oom.oom_kills(self._oom_files)
        except (RuntimeCommandError, OSError, ValueError) as exc:
            self.init.close()
            self.control.close()
            self._cleanup_runtime()
            raise SetupError(str(exc)) from None
        self.init.begin(pid, opts.stdin)
        self.reap()  # the init may have died already

    def _cleanup_runtime(self) -> None:
        try:
            self.runtime.delete(self.opts.id, force=True)
        except (RuntimeCommandError, OSError):
            pass

    # --- exit -------------------------------------------------------------------------
    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.init.pid and self.init.exit is None:
                self._init_exited(status)
            elif pid in self._exec_pids:
                proc = self._exec_pids.pop(pid)
                proc.exited(status)
                proc.drain()

    def _init_exited(self, status: int) -> None:
        """Record the exit on disk before anything else, then drain the output."""
        oom_killed = bool(self._oom_files) and oom.oom_kills(self._oom_files) > self._oom_base
        record = self.init.exited(status, oom_killed)
        try:
            write_atomic(self.opts.path(EXIT_NAME), json.dumps(record).encode())
        except OSError as exc:
            _log.error("writing %s: %s", EXIT_NAME, exc)
        self.status = STOPPED
        self.init.drain()

    # --- exec -------------------------------------------------------------------------
    def start_exec(self, exec_id: str, process: dict[str, object], stdin: bool) -> Process:
        """Run another process in the container (`runtime exec --detach`), stdio owned here.

        Its files get short numbered names: exec ids are long and socket paths are not.
        """
        self._exec_seq += 1
        n = self._exec_seq
        tty = bool(process.get("terminal"))
        stdio = ConsoleStdio(self.opts.path(f"x{n}.sock")) if tty else PipeStdio(stdin)
        proc = Process(self.loop, stdio, None)
        process_file, pid_file = self.opts.path(f"exec-{n}.json"), self.opts.path(f"exec-{n}.pid")
        try:
            with open(process_file, "w") as f:
                json.dump(process, f)
            self.runtime.exec(self.opts.id, process_file, pid_file, stdio.child_fds(), stdio.console_path())
            stdio.after_create(self.opts.timeout)
            with open(pid_file) as f:
                pid = int(f.read().strip())
        except BaseException:
            proc.close()
            raise
        finally:
            for path in (process_file, pid_file):
                _unlink(path)
        proc.begin(pid, stdin)
        self.execs[exec_id] = proc
        self._exec_pids[pid] = proc
        self.reap()  # it may have ended already
        return proc

    # --- ending -----------------------------------------------------------------------
    def close(self, remove_state: bool) -> None:
        """Stop serving; with remove_state the state directory is removed too."""
        self.control.close()
        self.init.close()
        for proc in self.execs.values():
            proc.close()
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
        _unlink(os.path.join(state_dir, name))
    try:
        os.rmdir(state_dir)
    except OSError:
        pass

