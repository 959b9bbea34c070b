"""Control operations on exec'd processes: `exec`, and state/kill/wait/resize/attach with `exec_id`.

An exec is `runtime exec --detach` of an OCI process spec; the shim owns its stdio like the
init's (no log file: Docker does not log exec output) and keeps its exit status in memory.
"""

from __future__ import annotations

import os
import signal

from sampan.shim.control import Conn
from sampan.shim.process import Process
from sampan.shim.wire import RUNNING, STOPPED, error

TYPE_CHECKING = False  # typing itself is not imported: it costs every shim 0.8 MiB
if TYPE_CHECKING:
    from sampan.shim.shim import Shim

EXEC_OPS = ("state", "kill", "wait", "resize", "attach")  # the ops that take an exec_id


class ExecRequests:
    def __init__(self, shim: Shim) -> None:
        self.shim = shim

    def op_exec(self, conn: Conn, request: dict[str, object]) -> None:
        shim = self.shim
        exec_id = _exec_id(request)
        process = request.get("process")
        if not isinstance(process, dict) or not isinstance(process.get("args"), list) or not process["args"]:
            raise ValueError("process must be an OCI process object with non-empty args")
        if exec_id in shim.execs:
            conn.reply(error(f"exec {exec_id} already exists", "Conflict"))
            return
        if shim.status != RUNNING:
            conn.reply(error(f"Container {shim.opts.id} is not running", "Conflict"))
            return
        proc = shim.start_exec(exec_id, process, bool(request.get("stdin", False)))
        conn.reply({"pid": proc.pid, "tty": proc.tty})
        if request.get("attach", True) and not proc.done:
            self._attach(conn, proc, request)

    def op_state(self, conn: Conn, request: dict[str, object]) -> None:
        exec_id = _exec_id(request)
        proc = self._find(conn, exec_id)
        if proc is None:
            return
        answer: dict[str, object] = {"exec_id": exec_id, "pid": proc.pid, "tty": proc.tty,
                                     "status": STOPPED if proc.exit is not None else RUNNING}
        if proc.exit is not None:
            answer["exit"] = proc.exit
        conn.reply(answer)

    def op_kill(self, conn: Conn, request: dict[str, object]) -> None:
        proc = self._find(conn, _exec_id(request))
        if proc is None:
            return
        sig = _signal_number(request.get("signal", 15))
        if proc.exit is not None:
            conn.reply(error(f"exec {request['exec_id']} is not running", "Conflict"))
            return
        os.kill(proc.pid, sig)  # not reaped yet, so the pid is still this process's
        conn.reply({})

    def op_wait(self, conn: Conn, request: dict[str, object]) -> None:
        proc = self._find(conn, _exec_id(request))
        if proc is not None:
            proc.when_done(lambda: conn.reply(dict(proc.exit or {})))

    def op_resize(self, conn: Conn, request: dict[str, object]) -> None:
        proc = self._find(conn, _exec_id(request))
        if proc is None:
            return
        height, width = request.get("height"), request.get("width")
        if not isinstance(height, int) or not isinstance(width, int) or not (_dimension(height) and _dimension(width)):
            raise ValueError(f"invalid size {height!r}x{width!r}")
        if not proc.tty or proc.exit is not None:
            conn.reply(error(f"exec {request['exec_id']} has no running terminal", "Conflict"))
            return
        proc.stdio.resize(height, width)
        conn.reply({})

    def op_attach(self, conn: Conn, request: dict[str, object]) -> None:
        proc = self._find(conn, _exec_id(request))
        if proc is None:
            return
        if proc.done:
            conn.reply(error(f"exec {request['exec_id']} is not running", "Conflict"))
            return
        conn.reply({"tty": proc.tty})
        self._attach(conn, proc, request)

    def _attach(self, conn: Conn, proc: Process, request: dict[str, object]) -> None:
        flags = {name: bool(request.get(name, name != "stdin")) for name in ("stdin", "stdout", "stderr")}
        sock, rest = conn.detach()
        proc.hub.add(sock, initial=rest, close_stdin=bool(request.get("close_stdin", True)), **flags)

    def _find(self, conn: Conn, exec_id: str) -> Process | None:
        proc = self.shim.execs.get(exec_id)
        if proc is None:
            conn.reply(error(f"No such exec instance: {exec_id}", "NotFound"))
        return proc


def _exec_id(request: dict[str, object]) -> str:
    exec_id = request.get("exec_id")
    if not isinstance(exec_id, str) or not exec_id:
        raise ValueError("exec_id must be a non-empty string")
    return exec_id


def _signal_number(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65:
        return value
    if isinstance(value, str):
        name = value.upper() if value.upper().startswith("SIG") else "SIG" + value.upper()
        if value.isdigit():
            return _signal_number(int(value))
        try:
            return int(signal.Signals[name])
        except KeyError:
            pass
    raise ValueError(f"invalid signal {value!r}")


def _dimension(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF
