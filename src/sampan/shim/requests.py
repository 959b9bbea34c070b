"""The control operations: each request of docs/shim-protocol.md answered against the shim's state."""

from __future__ import annotations

from sampan.shim.control import Conn
from sampan.shim.execs import EXEC_OPS, ExecRequests
from sampan.shim.runtime import RuntimeCommandError
from sampan.shim.wire import CREATED, OP_EXEC, OPS, PAUSED, RUNNING, STOPPED, error

TYPE_CHECKING = False  # typing itself is not imported: it costs every shim 0.8 MiB
if TYPE_CHECKING:
    from sampan.shim.shim import Shim

DELETE_TIMEOUT = 10.0  # how long a deleted running container may take to be reaped


class RequestHandler:
    def __init__(self, shim: Shim) -> None:
        self.shim = shim
        self.execs = ExecRequests(shim)

    def handle(self, conn: Conn, request: dict[str, object]) -> None:
        op = request.get("op")
        if op not in OPS:
            conn.reply(error(f"unknown operation {op!r}", "InvalidArgument"))
            return
        target: object = self
        if op == OP_EXEC or (op in EXEC_OPS and "exec_id" in request):
            target = self.execs
        try:
            getattr(target, f"op_{op}")(conn, request)
        except RuntimeCommandError as exc:
            conn.reply(error(str(exc), _runtime_kind(str(exc))))
        except (TypeError, ValueError) as exc:
            conn.reply(error(f"{op}: {exc}", "InvalidArgument"))
        except OSError as exc:
            conn.reply(error(f"{op}: {exc}", "System"))

    # --- operations -------------------------------------------------------------------
    def op_state(self, conn: Conn, _request: dict[str, object]) -> None:
        shim = self.shim
        answer: dict[str, object] = {"id": shim.opts.id, "status": shim.status, "pid": shim.pid,
                                     "tty": shim.opts.tty, "attached": len(shim.hub)}
        if shim.exit is not None:
            answer["exit"] = shim.exit
        conn.reply(answer)

    def op_start(self, conn: Conn, _request: dict[str, object]) -> None:
        shim = self.shim
        if shim.status != CREATED:
            conn.reply(error(f"container {shim.opts.id} is {shim.status}, not created", "Conflict"))
            return
        shim.runtime.start(shim.opts.id)
        if shim.status == CREATED:
            shim.status = RUNNING
        conn.reply({"pid": shim.pid})

    def op_kill(self, conn: Conn, request: dict[str, object]) -> None:
        shim = self.shim
        sig = request.get("signal", 15)
        if isinstance(sig, bool) or not isinstance(sig, int | str) or sig == "":
            raise ValueError(f"invalid signal {sig!r}")
        if shim.status == STOPPED:
            conn.reply(error(f"container {shim.opts.id} is not running", "Conflict"))
            return
        shim.runtime.kill(shim.opts.id, sig, bool(request.get("all", False)))
        conn.reply({})

    def op_pause(self, conn: Conn, _request: dict[str, object]) -> None:
        shim = self.shim
        if shim.status != RUNNING:
            conn.reply(error(f"container {shim.opts.id} is {shim.status}, not running", "Conflict"))
            return
        shim.runtime.pause(shim.opts.id)
        if shim.status == RUNNING:
            shim.status = PAUSED
        conn.reply({})

    def op_resume(self, conn: Conn, _request: dict[str, object]) -> None:
        shim = self.shim
        if shim.status != PAUSED:
            conn.reply(error(f"container {shim.opts.id} is not paused", "Conflict"))
            return
        shim.runtime.resume(shim.opts.id)
        if shim.status == PAUSED:
            shim.status = RUNNING
        conn.reply({})

    def op_wait(self, conn: Conn, _request: dict[str, object]) -> None:
        # A client may half-close after its request and still read the answer, so a wait is
        # kept until the exit; an answer to a client that went away just fails to send.
        self.shim.when_done(lambda: conn.reply(dict(self.shim.exit or {})))

    def op_resize(self, conn: Conn, request: dict[str, object]) -> None:
        height, width = request.get("height"), request.get("width")
        if not isinstance(height, int) or not isinstance(width, int) or not (_dimension(height) and _dimension(width)):
            raise ValueError(f"invalid size {height!r}x{width!r}")
        if not self.shim.stdio.tty:
            conn.reply(error(f"container {self.shim.opts.id} has no terminal", "Conflict"))
            return
        if self.shim.status == STOPPED:
            conn.reply(error(f"container {self.shim.opts.id} is not running", "Conflict"))
            return
        self.shim.stdio.resize(height, width)
        conn.reply({})

    def op_attach(self, conn: Conn, request: dict[str, object]) -> None:
        shim = self.shim
        if shim.done:
            conn.reply(error(f"container {shim.opts.id} is not running", "Conflict"))
            return
        flags = {name: bool(request.get(name, False)) for name in ("stdin", "stdout", "stderr")}
        close_stdin = bool(request.get("close_stdin", True))
        conn.reply({"tty": shim.stdio.tty})
        sock, rest = conn.detach()
        shim.hub.add(sock, initial=rest, close_stdin=close_stdin, **flags)

    def op_delete(self, conn: Conn, request: dict[str, object]) -> None:
        shim = self.shim
        force = bool(request.get("force", False))
        if shim.status in (RUNNING, PAUSED) and not force:
            conn.reply(error(f"cannot delete container {shim.opts.id} that is not stopped: running", "Conflict"))
            return
        shim.runtime.delete(shim.opts.id, force=force or shim.status != STOPPED)
        timer = shim.loop.call_later(DELETE_TIMEOUT, lambda: self._deleted(conn, 0))
        shim.when_done(lambda: self._deleted(conn, timer))

    def _deleted(self, conn: Conn, timer: int) -> None:
        self.shim.loop.cancel(timer)
        self.shim.finish_now(conn, dict(self.shim.exit or {}), remove_state=True)

    def op_shutdown(self, conn: Conn, request: dict[str, object]) -> None:
        shim = self.shim
        if shim.status != STOPPED and not request.get("force", False):
            conn.reply(error(f"container {shim.opts.id} is {shim.status}: delete it first", "Conflict"))
            return
        shim.finish_now(conn, {}, remove_state=False)


def _dimension(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF


def _runtime_kind(message: str) -> str:
    lowered = message.lower()
    if "not running" in lowered or "not stopped" in lowered or "already" in lowered:
        return "Conflict"
    if "does not exist" in lowered or "not found" in lowered:
        return "NotFound"
    return "System"
