"""A fork server for shims: the interpreter's pages shared copy-on-write by every shim.

A fresh interpreter per shim costs about 7 MiB of private memory, almost all of it the
interpreter's own heap. The zygote imports everything a shim runs, freezes its heap
(`gc.freeze()`, so collections in the children do not write to the shared pages) and forks one
child per request; each child is a complete shim (new session, subreaper, own loop), identical
to one started by `sampan-shim ...`.

Request: one line `{"argv": [shim arguments]}` on the zygote's socket. Answer: `ok` (written by
the new shim once its socket listens) or the error, then EOF.
"""

from __future__ import annotations

import gc
import os
import signal
import socket

from sampan.shim import args as shim_args
from sampan.shim import main as shim_main
from sampan.shim import wire


def serve(socket_path: str, ready_fd: int) -> int:
    """Listen on socket_path and fork shims until killed."""
    # Everything a shim imports, imported once here so the children share it.
    import sampan.linux.syscalls
    import sampan.shim.loop
    import sampan.shim.shim  # noqa: F401

    os.chdir("/")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(socket_path)
    except FileNotFoundError:
        pass
    listener.bind(socket_path)
    os.chmod(socket_path, 0o600)
    listener.listen(64)
    wire.write_atomic(socket_path + ".pid", f"{os.getpid()}\n".encode())
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _warm_up()
    gc.collect()
    gc.freeze()
    os.write(ready_fd, b"ok\n")
    os.close(ready_fd)
    while True:
        conn, _ = listener.accept()
        try:
            _handle(listener, conn)
        except Exception as exc:  # one bad request must not end the zygote
            _answer(conn, f"sampan-shim: zygote: {exc}\n")
        finally:
            conn.close()


def _handle(listener: socket.socket, conn: socket.socket) -> None:
    conn.settimeout(10.0)
    data = b""
    while b"\n" not in data and len(data) < wire.MAX_LINE:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    request = wire.decode(data.split(b"\n", 1)[0])
    argv = request.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ValueError("argv must be a list of strings")
    try:
        opts = shim_args.parse(argv)
    except shim_args.UsageError as exc:
        _answer(conn, f"sampan-shim: {exc}\n")
        return
    os.makedirs(opts.state_dir, mode=0o700, exist_ok=True)
    if shim_main.shim_answers(opts.path(wire.SOCKET_NAME)):
        _answer(conn, f"sampan-shim: a shim is already running in {opts.state_dir}\n")
        return
    if os.fork() == 0:
        code = 1
        try:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            shim_main.detach_stdio(opts)
            conn.settimeout(None)
            code = shim_main.serve(opts, conn.detach())
        finally:
            os._exit(code)


def _warm_up() -> None:
    """Run the shim's hot paths once, so the caches and specialised code they leave behind are
    in the shared pages rather than written anew in every child."""
    import time

    from sampan.shim.logfile import LineSplitter, encode_entries
    from sampan.shim.loop import Loop

    for _ in range(10):
        line = wire.encode({"op": "state", "id": "x", "pid": 1, "exit": wire.exit_record(0, "t", 1)})
        wire.decode(line)
        encode_entries(LineSplitter().feed(b"warm <up>\nline\n", time.time_ns()), "stdout")
        wire.exit_code_of(0)
        wire.frame(wire.STDOUT, b"x")
    loop = Loop()
    loop.call_later(0, lambda: None)
    loop.run_once(0)
    loop.close()


def _answer(conn: socket.socket, text: str) -> None:
    try:
        conn.sendall(text.encode())
    except OSError:
        pass


def _reap(_signum: int, _frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
