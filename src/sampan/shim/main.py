"""sampan-shim entry point: detach from the caller, create the container, serve until deleted.

Process model (like containerd's `shim start`): the caller runs `sampan-shim ...` and waits for
it to exit. That first process forks; the child starts a new session, becomes a child
subreaper (so the container's init, orphaned when the runtime's `create` exits, is reparented to
it and reaped by it), creates the container and listens on STATE_DIR/shim.sock. It reports
readiness (or the runtime's error) to the first process over a pipe, which then exits 0 (or 1 with
the error on stderr). The caller never has a zombie shim, and its death cannot reach the shim.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable

from sampan.shim.args import USAGE, Options, UsageError, parse
from sampan.shim.wire import SHIM_LOG_NAME, SHIM_PID_NAME, SOCKET_NAME, write_atomic


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--zygote"]:
        return _zygote(argv[1:])
    try:
        opts = parse(argv)
    except UsageError as exc:
        sys.stderr.write(f"sampan-shim: {exc}\n\n{USAGE}" if str(exc) else USAGE)
        return 2
    os.makedirs(opts.state_dir, mode=0o700, exist_ok=True)
    if shim_answers(opts.path(SOCKET_NAME)):
        sys.stderr.write(f"sampan-shim: a shim is already running in {opts.state_dir}\n")
        return 1
    if opts.foreground:
        return serve(opts, sys.stdout.fileno())
    return _daemonize(lambda ready_fd: serve(opts, ready_fd), opts.path(SHIM_LOG_NAME))


def _zygote(argv: list[str]) -> int:
    """`sampan-shim --zygote SOCKET`: start the fork server (see zygote.py) and detach it."""
    if len(argv) != 1:
        sys.stderr.write("usage: sampan-shim --zygote SOCKET\n")
        return 2
    path = os.path.abspath(argv[0])
    if shim_answers(path):
        return 0
    from sampan.shim import zygote

    return _daemonize(lambda ready_fd: zygote.serve(path, ready_fd), path + ".log")


def _daemonize(run: Callable[[int], int], log_path: str) -> int:
    """Fork; the child (new session, stdio to log_path) runs `run(ready_fd)`; the parent exits
    0 once the child writes "ok" on ready_fd, or 1 with what it wrote instead."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(ready_w)
        message = _read_all(ready_r)
        if message.startswith(b"ok"):
            return 0
        sys.stderr.write(message.decode(errors="replace") or "sampan-shim: exited before it was ready\n")
        return 1
    os.close(ready_r)
    code = 1
    try:
        os.setsid()
        _redirect_stdio(log_path)
        code = run(ready_w)
    finally:
        os._exit(code)


def serve(opts: Options, ready_fd: int) -> int:
    """Run the shim in this process; report readiness on ready_fd."""
    from sampan.linux.syscalls import PR_SET_CHILD_SUBREAPER, Syscalls
    from sampan.shim.loop import Loop
    from sampan.shim.shim import SetupError, Shim, remove_state_dir

    os.chdir("/")
    write_atomic(opts.path(SHIM_PID_NAME), f"{os.getpid()}\n".encode())
    Syscalls().prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    loop = Loop()
    shim = Shim(opts, loop)
    try:
        shim.setup()
    except (SetupError, OSError, ValueError) as exc:
        _write_all(ready_fd, f"sampan-shim: {exc}\n".encode())
        remove_state_dir(opts.state_dir)
        return 1
    _write_all(ready_fd, b"ok\n")
    if ready_fd > 2:
        os.close(ready_fd)
    loop.run()
    loop.close()
    return 0


def detach_stdio(opts: Options) -> None:
    """stdin from /dev/null, stdout and stderr to STATE_DIR/shim.log: the caller's pipes are let go."""
    _redirect_stdio(opts.path(SHIM_LOG_NAME))


def _redirect_stdio(log_path: str) -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)


def shim_answers(path: str) -> bool:
    if not os.path.exists(path):
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    try:
        os.write(fd, data)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
