"""The daemon's side of a shim: spawn one, find it again after a restart, and talk to it.

Every call opens its own connection to STATE_DIR/shim.sock, so calls from several daemon
threads never share a socket. `read_exit` reads exit.json with no shim running at all.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import sampan
from sampan import errdefs
from sampan.shim import args as shim_args
from sampan.shim import wire
from sampan.shim.protocol import (
    AttachRequest,
    DeleteRequest,
    ExecRequest,
    ExecState,
    ExitStatus,
    KillRequest,
    LogOptions,
    PauseRequest,
    Request,
    ResizeRequest,
    ResumeRequest,
    ShimState,
    ShutdownRequest,
    StartRequest,
    StateRequest,
    WaitRequest,
    check_response,
    parse_signal,
)

DEFAULT_TIMEOUT = 30.0
SPAWN_TIMEOUT = 60.0


def read_exit(state_dir: str) -> ExitStatus | None:
    """The recorded exit of a container whose shim may be gone; None if it has not exited."""
    try:
        with open(os.path.join(state_dir, wire.EXIT_NAME), "rb") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise errdefs.DataLoss(f"corrupt {wire.EXIT_NAME} in {state_dir}: {exc}") from None
    return ExitStatus.from_wire(data)


def shim_command(python: str = sys.executable) -> list[str]:
    """How a shim is started: this interpreter, no site (-S), the shim module."""
    return [python, "-S", "-m", "sampan.shim.main"]


class ShimClient:
    def __init__(self, state_dir: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.state_dir = os.path.abspath(state_dir)
        self.socket_path = os.path.join(self.state_dir, wire.SOCKET_NAME)
        self.timeout = timeout

    # --- finding a shim ---------------------------------------------------------------
    @classmethod
    def spawn(cls, id: str, bundle: str, state_dir: str, *, runtime: str = "runc", runtime_root: str | None = None,
              log_path: str | None = None, log_opts: dict[str, str] | None = None, tty: bool = False,
              stdin: bool = False, timeout: float = DEFAULT_TIMEOUT, python: str = sys.executable,
              zygote: str | None = None) -> ShimClient:
        """Start a shim that creates the container; returns once its socket answers.

        The shim detaches itself (new session, its first process exits once it is ready), so
        this returns with no child left behind. With `zygote` (a socket path) the shim is forked
        by that fork server, started first if it does not answer. Errors carry the runtime's
        own message.
        """
        log = LogOptions.parse(log_opts)
        opts = shim_args.Options()
        opts.id, opts.runtime = id, runtime
        opts.bundle, opts.state_dir = os.path.abspath(bundle), os.path.abspath(state_dir)
        opts.runtime_root = os.path.abspath(runtime_root) if runtime_root else None
        opts.log_path = os.path.abspath(log_path) if log_path else None
        opts.log_max_size, opts.log_max_file = log.max_size, log.max_file
        opts.tty, opts.stdin, opts.timeout = tty, stdin, timeout
        if zygote:
            answer = _ask_zygote(zygote, shim_args.to_argv(opts), python)
            if not answer.startswith(b"ok"):
                message = answer.decode(errors="replace").strip().removeprefix("sampan-shim: ")
                raise errdefs.System(message or f"shim for container {id} exited before it was ready")
        else:
            _run_shim_command(python, shim_args.to_argv(opts), f"shim for container {id}")
        client = cls(state_dir, timeout)
        client.state()
        return client

    @classmethod
    def connect(cls, state_dir: str, timeout: float = DEFAULT_TIMEOUT) -> ShimClient:
        """Find a running shim again by its state directory (after a daemon restart)."""
        client = cls(state_dir, timeout)
        client.state()
        return client

    @property
    def shim_pid(self) -> int:
        with open(os.path.join(self.state_dir, wire.SHIM_PID_NAME)) as f:
            return int(f.read().strip())

    # --- operations -------------------------------------------------------------------
    def state(self) -> ShimState:
        return ShimState.from_wire(self._call(StateRequest()))

    def start(self) -> int:
        """Start the created container; returns the init's pid."""
        pid = self._call(StartRequest()).get("pid", 0)
        return pid if isinstance(pid, int) else 0

    def kill(self, sig: int | str, all: bool = False, exec_id: str = "") -> None:
        self._call(KillRequest(signal=parse_signal(sig), all=all, exec_id=exec_id))

    def pause(self) -> None:
        """Freeze the container (runtime pause)."""
        self._call(PauseRequest())

    def resume(self) -> None:
        """Thaw a paused container (runtime resume)."""
        self._call(ResumeRequest())

    def wait(self, timeout: float | None = None, exec_id: str = "") -> ExitStatus:
        """Block until the container (or exec) exited and its output is drained (None: no limit)."""
        return ExitStatus.from_wire(self._call(WaitRequest(exec_id=exec_id), timeout=timeout))

    def resize(self, height: int, width: int, exec_id: str = "") -> None:
        self._call(ResizeRequest(height=height, width=width, exec_id=exec_id))

    def attach(self, stdin: bool = False, stdout: bool = True, stderr: bool = True,
               close_stdin: bool = True, exec_id: str = "") -> socket.socket:
        """A socket carrying the attach stream: stdcopy frames (raw with a tty) out, stdin in.

        shutdown(SHUT_WR) on it closes the container's stdin when stdin and close_stdin are set.
        """
        sock, _ = self._stream(AttachRequest(stdin=stdin, stdout=stdout, stderr=stderr, close_stdin=close_stdin,
                                             exec_id=exec_id))
        return sock

    def exec(self, exec_id: str, process: dict[str, object], *, stdin: bool = False, attach: bool = True,
             stdout: bool = True, stderr: bool = True, close_stdin: bool = True) -> tuple[int, socket.socket | None]:
        """Run `process` (an OCI process object) in the running container.

        Returns its pid and, with `attach`, the socket carrying its stream (as `attach`). Its exit
        is `wait(exec_id=...)`; `exec_state(exec_id)` tells it later.
        """
        request = ExecRequest(exec_id=exec_id, process=process, stdin=stdin, attach=attach, stdout=stdout,
                              stderr=stderr, close_stdin=close_stdin)
        sock, answer = self._stream(request)
        pid = answer.get("pid", 0)
        if not attach:
            sock.close()
            return (pid if isinstance(pid, int) else 0), None
        return (pid if isinstance(pid, int) else 0), sock

    def exec_state(self, exec_id: str) -> ExecState:
        return ExecState.from_wire(self._call(StateRequest(exec_id=exec_id)))

    def delete(self, force: bool = False) -> ExitStatus | None:
        """Delete the container in the runtime; the shim removes its state and exits."""
        data = self._call(DeleteRequest(force=force))
        return ExitStatus.from_wire(data) if "exit_code" in data else None

    def shutdown(self, force: bool = False) -> None:
        """Stop the shim, leaving the runtime's state and exit.json in place."""
        self._call(ShutdownRequest(force=force))

    # --- transport --------------------------------------------------------------------
    def _stream(self, request: Request) -> tuple[socket.socket, dict[str, object]]:
        """Send a request whose answer is followed by a stream; the socket after the answer."""
        sock = self._connect()
        try:
            sock.sendall(request.encode())
            answer = check_response(wire.decode(_read_line(sock)))
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        return sock, answer

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError as exc:
            sock.close()
            raise errdefs.Unavailable(f"shim at {self.state_dir} is not running: {exc.strerror or exc}") from None
        return sock

    def _call(self, request: Request, timeout: float | None = -1.0) -> dict[str, object]:
        with self._connect() as sock:
            sock.settimeout(self.timeout if timeout == -1.0 else timeout)
            try:
                sock.sendall(request.encode())
                line = _read_reply(sock)
            except TimeoutError:
                raise TimeoutError(f"shim at {self.state_dir}: no answer to {request.op}") from None
            except OSError as exc:
                raise errdefs.Unavailable(f"shim at {self.state_dir}: {request.op}: {exc}") from None
        return check_response(wire.decode(line))


def _run_shim_command(python: str, argv: list[str], what: str) -> None:
    """Run `sampan-shim ARGV` until its first process exits (it detaches the real one)."""
    env = dict(os.environ)
    src = os.path.dirname(os.path.dirname(os.path.abspath(sampan.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run([*shim_command(python), *argv], stdin=subprocess.DEVNULL, capture_output=True,
                              env=env, timeout=SPAWN_TIMEOUT, start_new_session=True, check=False)
    except subprocess.TimeoutExpired:
        raise errdefs.System(f"{what} was not ready after {SPAWN_TIMEOUT:.0f}s") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().removeprefix("sampan-shim: ")
        raise errdefs.System(message or f"{what} exited with status {proc.returncode}")


def start_zygote(path: str, python: str = sys.executable) -> None:
    """Start the shim fork server on `path` unless one answers there (serialised by a lock file)."""
    import fcntl

    path = os.path.abspath(path)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _run_shim_command(python, ["--zygote", path], f"shim zygote {path}")


def stop_zygote(path: str) -> None:
    """Stop the fork server by its pid file (its shims keep running)."""
    import signal

    try:
        with open(os.path.abspath(path) + ".pid") as f:
            pid = int(f.read().strip())
        os.kill(pid, signal.SIGKILL)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pass
    for suffix in ("", ".pid", ".lock"):
        try:
            os.unlink(os.path.abspath(path) + suffix)
        except FileNotFoundError:
            pass


def _ask_zygote(path: str, argv: list[str], python: str) -> bytes:
    """Have the fork server fork a shim; its answer (b"ok..." or an error) to EOF."""
    for attempt in (1, 2):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(SPAWN_TIMEOUT)
        try:
            try:
                sock.connect(path)
            except (FileNotFoundError, ConnectionRefusedError):
                if attempt == 2:
                    raise errdefs.Unavailable(f"shim zygote at {path} does not answer") from None
                start_zygote(path, python)
                continue
            sock.sendall(wire.encode({"argv": argv}))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            sock.close()
    raise errdefs.Unavailable(f"shim zygote at {path} does not answer")


def _read_reply(sock: socket.socket) -> bytes:
    """The one response line of a one-request connection."""
    buf = bytearray()
    while b"\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise errdefs.Unavailable("the shim closed the connection without an answer")
        buf += data
        if len(buf) > wire.MAX_LINE:
            raise wire.ProtocolError("response line too long")
    return bytes(buf[:buf.index(b"\n")])


def _read_line(sock: socket.socket) -> bytes:
    """One response line, read byte-wise so nothing after it (an attach stream) is consumed."""
    buf = bytearray()
    while len(buf) <= wire.MAX_LINE:
        ch = sock.recv(1)
        if not ch:
            raise errdefs.Unavailable("the shim closed the connection without an answer")
        if ch == b"\n":
            return bytes(buf)
        buf += ch
    raise wire.ProtocolError("response line too long")
