"""`docker exec`: exec instances of running containers, kept in memory like dockerd keeps them.

An exec is created (validated, recorded, `exec_create` event), started once (the shim runs it
with `runtime exec`; `exec_start`), and a watcher thread records its exit (`exec_die`). Records
stay inspectable until their container is removed or the daemon restarts; a container's
`ExecIDs` lists only the execs that have not exited. `run` is the whole cycle in one call, with
output collected and a timeout, for health checks.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sampan import errdefs
from sampan.api import detachkeys
from sampan.daemon.containers import state as st
from sampan.daemon.containers.exec_process import exec_process, user_lookup
from sampan.daemon.containers.live import start_exit_code
from sampan.daemon.containers.record import ContainerRecord
from sampan.daemon.events import container_event
from sampan.shim.client import ShimClient
from sampan.shim.wire import parse_header

if TYPE_CHECKING:
    from sampan.daemon.containers.service import ContainerService

log = logging.getLogger(__name__)

PROBE_OUTPUT_LIMIT = 4096  # what Docker's health probe keeps of the output
DEFAULT_DETACH_SEQUENCE = b"\x10\x11"  # ctrl-p, ctrl-q


@dataclass
class ExecRecord:
    id: str
    container_id: str
    entrypoint: str
    arguments: list[str]
    tty: bool = False
    privileged: bool = False
    user: str = ""
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    open_stdin: bool = False
    open_stdout: bool = False
    open_stderr: bool = False
    detach_keys: str = ""
    detach_sequence: bytes = DEFAULT_DETACH_SEQUENCE
    console_size: tuple[int, int] | None = None
    started: bool = False
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def command_line(self) -> str:
        """Docker's event text: entrypoint, a space, the arguments joined by spaces."""
        return self.entrypoint + " " + " ".join(self.arguments)

    def inspect(self) -> dict[str, Any]:
        process: dict[str, Any] = {"tty": self.tty, "entrypoint": self.entrypoint, "arguments": list(self.arguments),
                                   "privileged": self.privileged}
        if self.user:
            process["user"] = self.user
        return {
            "ID": self.id, "Running": self.running, "ExitCode": self.exit_code, "ProcessConfig": process,
            "OpenStdin": self.open_stdin, "OpenStderr": self.open_stderr, "OpenStdout": self.open_stdout,
            "CanRemove": False, "ContainerID": self.container_id, "DetachKeys": self.detach_keys, "Pid": self.pid,
        }


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: bytes  # stdout and stderr interleaved, at most `limit` bytes
    timed_out: bool = False


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errdefs.InvalidArgument(f"{what} must be a list of strings")
    return list(value)


class _FoldedKeys(dict[str, Any]):
    """A JSON object read with Go's case-insensitive field matching (docker-py sends detachKeys)."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


def _fold_keys(body: dict[str, Any]) -> dict[str, Any]:
    folded = _FoldedKeys()
    for key, value in body.items():  # Go decodes in order: the last spelling of a field wins
        folded[key.lower()] = value
    return folded


def parse_detach_keys(spec: str) -> bytes:
    """Docker's "ctrl-p,ctrl-q" key list as bytes; dockerd's 400 for a bad one."""
    try:
        return detachkeys.parse_detach_keys(spec)
    except ValueError:
        raise errdefs.InvalidArgument(f"Invalid detach keys ({spec}) provided") from None


def _console_size(value: Any) -> tuple[int, int] | None:
    if not value:
        return None
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) and v >= 0 for v in value):
        raise errdefs.InvalidArgument("ConsoleSize must be an array of two non-negative integers")
    return (value[0], value[1]) if value[0] or value[1] else None


class ExecService:
    """Exec instances of the containers of one ContainerService."""

    def __init__(self, containers: ContainerService) -> None:
        self.containers = containers
        self._lock = threading.Lock()
        self._execs: dict[str, ExecRecord] = {}

    # --- create -------------------------------------------------------------------------
    def create(self, ref: str, body: dict[str, Any]) -> str:
        """Validate and record an exec (POST /containers/{id}/exec); returns its 64-hex ID."""
        if not isinstance(body, dict):
            raise errdefs.InvalidArgument("No exec command specified")
        body = _fold_keys(body)
        cmd = _strings(body.get("Cmd"), "Cmd")
        if not cmd:
            raise errdefs.InvalidArgument("No exec command specified")
        rec = self.containers.store.get(ref)
        self._check_active(rec)
        self._forget_removed()
        ex = ExecRecord(
            id=secrets.token_hex(32), container_id=rec.id, entrypoint=cmd[0], arguments=cmd[1:],
            tty=bool(body.get("Tty")), privileged=bool(body.get("Privileged")), user=str(body.get("User") or ""),
            env=_strings(body.get("Env"), "Env"), working_dir=str(body.get("WorkingDir") or ""),
            open_stdin=bool(body.get("AttachStdin")), open_stdout=bool(body.get("AttachStdout")),
            open_stderr=bool(body.get("AttachStderr")), detach_keys=str(body.get("DetachKeys") or ""),
            console_size=_console_size(body.get("ConsoleSize")),
        )
        if ex.detach_keys:
            ex.detach_sequence = parse_detach_keys(ex.detach_keys)
        with self._lock:
            self._execs[ex.id] = ex
        self._publish(rec, "exec_create: " + ex.command_line, ex)
        return ex.id

    def _check_active(self, rec: ContainerRecord) -> None:
        status = rec.state.status
        if status == st.PAUSED:
            raise errdefs.Conflict(f"Container {rec.id} is paused, unpause the container before exec")
        if status == st.RESTARTING:
            raise errdefs.Conflict(f"Container {rec.id} is restarting, wait until the container is running")
        if status != st.RUNNING:
            raise errdefs.Conflict(f"Container {rec.id} is not running")

    def _forget_removed(self) -> None:
        """Drop the execs of containers that no longer exist (dockerd drops them at removal)."""
        ids = {r.id for r in self.containers.store.all()}
        with self._lock:
            for eid in [e.id for e in self._execs.values() if e.container_id not in ids]:
                del self._execs[eid]

    # --- look-ups -----------------------------------------------------------------------
    def get(self, exec_id: str) -> ExecRecord:
        with self._lock:
            ex = self._execs.get(exec_id)
        if ex is None:
            raise errdefs.NotFound(f"No such exec instance: {exec_id}")
        try:
            self.containers.store.get(ex.container_id)
        except errdefs.NotFound:
            with self._lock:
                self._execs.pop(exec_id, None)
            raise errdefs.NotFound(f"No such exec instance: {exec_id}") from None
        return ex

    def inspect(self, exec_id: str) -> dict[str, Any]:
        return self.get(exec_id).inspect()

    def ids_for(self, container_id: str) -> list[str]:
        """The container's `ExecIDs`: while it runs, its execs that have not exited."""
        try:
            if not st.is_active(self.containers.store.get(container_id).state.status):
                return []
        except errdefs.NotFound:
            return []
        with self._lock:
            return [e.id for e in self._execs.values() if e.container_id == container_id and e.exit_code is None]

    def forget(self, exec_id: str) -> None:
        """Drop a finished exec's record (health probes do not pile up)."""
        with self._lock:
            ex = self._execs.get(exec_id)
            if ex is not None and ex.exit_code is not None:
                del self._execs[exec_id]

    # --- start --------------------------------------------------------------------------
    def start(self, exec_id: str, *, detach: bool = False,
              console_size: tuple[int, int] | None = None) -> socket.socket | None:
        """Run the exec; with `detach` returns None at once, else the socket of its stream.

        The stream carries stdcopy frames (raw with a tty) out and stdin in, and ends once the
        process exited; `wait` then gives the exit code. A failed start records 126/127.
        """
        ex = self.get(exec_id)
        rec = self.containers.store.get(ex.container_id)
        with self._lock:
            if ex.exit_code is not None:
                raise errdefs.Conflict(f"Error: Exec command {ex.id} has already run")
            if ex.started:
                raise errdefs.Conflict(f"Error: Exec command {ex.id} is already running")
            self._check_active(rec)
            ex.started = ex.running = True
        self._publish(rec, "exec_start: " + ex.command_line, ex)
        try:
            shim = self._shim(rec)
            process = self._process(rec, ex)
            if console_size or ex.console_size:
                height, width = console_size or ex.console_size or (0, 0)
                if ex.tty and height and width:
                    process["consoleSize"] = {"height": height, "width": width}
            attach = not detach
            pid, sock = shim.exec(ex.id, process, stdin=ex.open_stdin and attach, attach=attach,
                                  stdout=ex.open_stdout, stderr=ex.open_stderr)
        except Exception as exc:  # no process ran: no exec_die, as dockerd
            code = start_exit_code(str(exc))
            self._finish(rec, ex, 126 if code == 128 else code, publish=False)
            raise
        ex.pid = pid
        threading.Thread(target=self._watch, args=(rec, ex, shim), name=f"exec-{ex.id[:12]}", daemon=True).start()
        return sock

    def _shim(self, rec: ContainerRecord) -> ShimClient:
        shim = self.containers.lifecycle.live(rec.id).shim
        if shim is None:
            raise errdefs.Conflict(f"Container {rec.id} is not running")
        return shim

    def _process(self, rec: ContainerRecord, ex: ExecRecord) -> dict[str, Any]:
        bundle = self.containers.lifecycle.bundle(rec.id)
        try:
            with open(os.path.join(bundle, "config.json"), "rb") as f:
                spec = json.load(f)
        except (OSError, ValueError) as exc:
            raise errdefs.System(f"cannot read the spec of container {rec.id}: {exc}") from None
        lookup = user_lookup(os.path.join(bundle, "rootfs"), [str(g) for g in rec.host_config.get("GroupAdd") or []])
        return exec_process(dict(spec.get("process") or {}), args=[ex.entrypoint, *ex.arguments], user=ex.user,
                            env=ex.env, cwd=ex.working_dir, tty=ex.tty, privileged=ex.privileged,
                            passwd_lookup=lookup)

    def _watch(self, rec: ContainerRecord, ex: ExecRecord, shim: ShimClient) -> None:
        code = 126
        try:
            code = shim.wait(timeout=None, exec_id=ex.id).exit_code
        except Exception as exc:  # the container (and its shim) went away
            log.info("exec %s of %s: lost its exit: %s", ex.id[:12], rec.id[:12], exc)
            code = 137
        self._finish(rec, ex, code)

    def _finish(self, rec: ContainerRecord, ex: ExecRecord, code: int, publish: bool = True) -> None:
        with self._lock:
            ex.running = False
            ex.exit_code = code
        ex.done.set()
        if publish:
            self._publish(rec, "exec_die", ex, exitCode=str(code))

    def wait(self, exec_id: str, timeout: float | None = None) -> int | None:
        """The exit code once the exec exited (None if it has not within `timeout`)."""
        ex = self.get(exec_id)
        ex.done.wait(timeout)
        return ex.exit_code

    def detached(self, exec_id: str) -> None:
        """The client detached from the exec's stream (its detach keys): `exec_detach`, as dockerd."""
        ex = self.get(exec_id)
        self._publish(self.containers.store.get(ex.container_id), "exec_detach", ex)

    # --- resize and kill ----------------------------------------------------------------
    def resize(self, exec_id: str, height: int, width: int) -> None:
        ex = self.get(exec_id)
        if not ex.running:
            raise errdefs.Conflict(f"Exec {ex.id} is not running")
        rec = self.containers.store.get(ex.container_id)
        self._shim(rec).resize(height, width, exec_id=ex.id)

    def kill(self, exec_id: str, signal: int | str = 9) -> None:
        ex = self.get(exec_id)
        rec = self.containers.store.get(ex.container_id)
        try:
            self._shim(rec).kill(signal, exec_id=ex.id)
        except errdefs.Conflict:
            pass  # exited meanwhile

    # --- one call: health checks --------------------------------------------------------
    def run(self, ref: str, cmd: list[str], *, timeout: float, user: str = "", env: list[str] | None = None,
            working_dir: str = "", limit: int = PROBE_OUTPUT_LIMIT) -> ExecResult:
        """Run `cmd` in the running container; its exit code and first `limit` bytes of output.

        Killed (SIGKILL) once `timeout` seconds have passed: then `timed_out` is set and the exit
        code is what the kill gave (137). Errors as create/start raise them (a failed start
        raises after recording 126/127). Events are published as for any exec; the record is
        dropped once the exec ended.
        """
        exec_id = self.create(ref, {"Cmd": cmd, "User": user, "Env": env or [], "WorkingDir": working_dir,
                                    "AttachStdout": True, "AttachStderr": True})
        deadline = time.monotonic() + timeout
        try:
            sock = self.start(exec_id)
            assert sock is not None
            with sock:
                output, timed_out = _collect(sock, deadline, limit)
            if timed_out:
                self.kill(exec_id)
            code = self.wait(exec_id, None if not timed_out else 30.0)
        finally:
            self.forget(exec_id)
        return ExecResult(code if code is not None else 137, output, timed_out)

    # --- events -------------------------------------------------------------------------
    def _publish(self, rec: ContainerRecord, action: str, ex: ExecRecord, **extra: str) -> None:
        try:
            container_event(self.containers.events, rec, action, execID=ex.id, **extra)
        except Exception:
            log.warning("cannot publish %s of %s", action, rec.id[:12], exc_info=True)


def _collect(sock: socket.socket, deadline: float, limit: int) -> tuple[bytes, bool]:
    """Read a stdcopy stream to its end or the deadline; keep the first `limit` payload bytes."""
    out = bytearray()
    buf = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(out), True
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return bytes(out), True
        except OSError:
            break
        if not data:
            break
        buf += data
        while len(buf) >= 8:
            _, length = parse_header(bytes(buf[:8]))
            if len(buf) < 8 + length:
                break
            if len(out) < limit:
                out += buf[8:8 + min(length, limit - len(out))]
            del buf[:8 + length]
    return bytes(out), False
