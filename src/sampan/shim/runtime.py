"""Drives an OCI runtime with runc's command line (runc itself, crun or sampan-runtime).

Commands are started with `os.posix_spawn` (no subprocess, no threads) and waited for here,
synchronously: they are short, and the loop runs nothing else meanwhile, so the shim's reaper
never steals their status. Runtime errors are read from runc's JSON log (`--log-format json`),
falling back to what the command wrote on stderr.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time

DEFAULT_TIMEOUT = 30.0

# Signals the shim ignores or catches must be default again in the runtime and the container.
_RESET_SIGNALS = {signal.SIGPIPE, signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGCHLD,
                  signal.SIGXFSZ}


class RuntimeCommandError(Exception):
    """A runtime command failed; the message is the runtime's own error text."""

    def __init__(self, argv: list[str], code: int, message: str) -> None:
        self.argv = argv
        self.code = code
        super().__init__(message or f"{argv[0]} {argv_command(argv)} exited with status {code}")


class RunResult:
    __slots__ = ("code", "stderr", "stdout")

    def __init__(self, code: int, stdout: bytes, stderr: bytes) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr


def argv_command(argv: list[str]) -> str:
    """The subcommand of a runtime argv (first word after the global options)."""
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word in ("--root", "--log", "--log-format", "--criu", "--rootless"):
            skip = True
        elif not word.startswith("-"):
            return word
    return ""


class RuntimeDriver:
    """Builds runc-grammar argvs and runs them."""

    def __init__(self, runtime: str, root: str | None = None, log_path: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.runtime = runtime
        self.root = root
        self.log_path = log_path
        self.timeout = timeout

    # --- argv building (pure) ---------------------------------------------------------
    def base(self) -> list[str]:
        argv = [self.runtime]
        if self.root:
            argv += ["--root", self.root]
        if self.log_path:
            argv += ["--log", self.log_path, "--log-format", "json"]
        return argv

    def create_argv(self, cid: str, bundle: str, pid_file: str, console_socket: str | None = None) -> list[str]:
        argv = [*self.base(), "create", "--bundle", bundle, "--pid-file", pid_file]
        if console_socket:
            argv += ["--console-socket", console_socket]
        return [*argv, cid]

    def exec_argv(self, cid: str, process_file: str, pid_file: str, console_socket: str | None = None) -> list[str]:
        argv = [*self.base(), "exec", "--process", process_file, "--detach", "--pid-file", pid_file]
        if console_socket:
            argv += ["--console-socket", console_socket]
        return [*argv, cid]

    def start_argv(self, cid: str) -> list[str]:
        return [*self.base(), "start", cid]

    def kill_argv(self, cid: str, sig: int | str, all_processes: bool = False) -> list[str]:
        argv = [*self.base(), "kill"]
        if all_processes:
            argv.append("--all")
        return [*argv, cid, str(sig)]

    def delete_argv(self, cid: str, force: bool = False) -> list[str]:
        argv = [*self.base(), "delete"]
        if force:
            argv.append("--force")
        return [*argv, cid]

    def state_argv(self, cid: str) -> list[str]:
        return [*self.base(), "state", cid]

    def pause_argv(self, cid: str) -> list[str]:
        return [*self.base(), "pause", cid]

    def resume_argv(self, cid: str) -> list[str]:
        return [*self.base(), "resume", cid]

    # --- running ----------------------------------------------------------------------
    def create(self, cid: str, bundle: str, pid_file: str, stdio: tuple[int, int, int],
               console_socket: str | None = None) -> None:
        """`create` with the container's stdio as the runtime's own fds 0/1/2."""
        self._spawn_and_check(self.create_argv(cid, bundle, pid_file, console_socket), stdio)

    def _spawn_and_check(self, argv: list[str], stdio: tuple[int, int, int]) -> None:
        mark = self._log_offset()
        pid = spawn(argv, stdio)
        code = wait_pid(pid, self.timeout)
        if code != 0:
            raise RuntimeCommandError(argv, code, self._log_error(mark))

    def exec(self, cid: str, process_file: str, pid_file: str, stdio: tuple[int, int, int],
             console_socket: str | None = None) -> None:
        """`exec --detach` of a process spec, with its stdio as the runtime's fds 0/1/2."""
        self._spawn_and_check(self.exec_argv(cid, process_file, pid_file, console_socket), stdio)

    def start(self, cid: str) -> None:
        self.check(self.start_argv(cid))

    def kill(self, cid: str, sig: int | str, all_processes: bool = False) -> None:
        self.check(self.kill_argv(cid, sig, all_processes))

    def delete(self, cid: str, force: bool = False) -> None:
        self.check(self.delete_argv(cid, force))

    def pause(self, cid: str) -> None:
        self.check(self.pause_argv(cid))

    def resume(self, cid: str) -> None:
        self.check(self.resume_argv(cid))

    def state(self, cid: str) -> dict[str, object]:
        out = self.check(self.state_argv(cid))
        value = json.loads(out)
        if not isinstance(value, dict):
            raise RuntimeCommandError(self.state_argv(cid), 0, "runtime state is not a JSON object")
        return value

    def check(self, argv: list[str]) -> bytes:
        """Run argv; its stdout on success, RuntimeCommandError with the runtime's message otherwise."""
        mark = self._log_offset()
        result = run_capture(argv, self.timeout)
        if result.code != 0:
            message = self._log_error(mark) or result.stderr.decode(errors="replace").strip()
            raise RuntimeCommandError(argv, result.code, message)
        return result.stdout

    def _log_offset(self) -> int:
        if not self.log_path:
            return 0
        try:
            return os.stat(self.log_path).st_size
        except FileNotFoundError:
            return 0

    def _log_error(self, offset: int) -> str:
        """The last error message the runtime logged after `offset`."""
        if not self.log_path:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                lines = f.read().splitlines()
        except FileNotFoundError:
            return ""
        message = ""
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("level") in ("error", "fatal"):
                message = str(entry.get("msg", ""))
        return message


def spawn(argv: list[str], stdio: tuple[int, int, int]) -> int:
    """Start argv with the given fds as 0/1/2 and default signal handling.

    sampan's own runtime launcher is run by forking and calling its `main` here (see
    `runs_in_process`); anything else with posix_spawn."""
    if runs_in_process(argv[0]):
        return _fork_runtime_main(argv, stdio)
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(stdio)]
    return os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions,
                          setsigdef=_RESET_SIGNALS, setsigmask=())


_LAUNCHER_MARK = b"from sampan.runtime.cli import main"


def runs_in_process(path: str) -> bool:
    """Whether `path` is the site-less launcher sampand writes for sampan-runtime, to be run
    by the same interpreter as this shim. Then a fork of the shim can call the runtime's
    `main` directly: the same program with the same argv, minus an interpreter start (~8-10
    ms for each of create, start and delete). SAMPAN_SHIM_EXEC_RUNTIME=1 turns this off."""
    if os.environ.get("SAMPAN_SHIM_EXEC_RUNTIME"):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    if not head.startswith(b"#!") or _LAUNCHER_MARK not in head:
        return False
    import sys

    interpreter = head[2:].split(b"\n", 1)[0].split()[0].decode()
    return os.path.realpath(interpreter) == os.path.realpath(sys.executable)


def _fork_runtime_main(argv: list[str], stdio: tuple[int, int, int]) -> int:
    """Fork; the child gets the runtime's view of the world (stdio on 0/1/2, no other fds,
    default signals, empty mask) and runs sampan.runtime.cli.main with argv, then exits."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2:
                try:
                    os.close(fd)
                except OSError:
                    pass
        signal.set_wakeup_fd(-1)
        for signum in _RESET_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # as a new interpreter starts: the runtime
            signal.signal(signum, signal.SIG_IGN)  # expects EPIPE, and resets both before execve
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        # the runtime writes through sys.std*: bind them to the fds it was given
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        sys.argv = list(argv)
        from sampan.runtime.cli import main

        main()  # exits the process itself
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    return 0  # not reached


def wait_pid(pid: int, timeout: float) -> int:
    """Wait for a child spawned here; kill it after `timeout` seconds. Returns its exit code."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_capture(argv: list[str], timeout: float) -> RunResult:
    """Run argv with stdin from /dev/null, capturing stdout and stderr."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        pid = spawn(argv, (null, out_w, err_w))
    finally:
        for fd in (null, out_w, err_w):
            os.close(fd)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    open_fds = [out_r, err_r]
    deadline = time.monotonic() + timeout
    try:
        while open_fds:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select(open_fds, [], [], remaining)
            for fd in ready:
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    open_fds.remove(fd)
    finally:
        os.close(out_r)
        os.close(err_r)
    _, status = os.waitpid(pid, 0)
    return RunResult(os.waitstatus_to_exitcode(status), b"".join(chunks[out_r]), b"".join(chunks[err_r]))
