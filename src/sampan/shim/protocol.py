"""Typed messages of the shim protocol for its users (the daemon, tests), over wire.py's codec.

The shim process itself reads requests as plain dicts (wire.py) so it never imports dataclasses;
these classes are the same names and fields, checked, for the side that can afford them.
"""

from __future__ import annotations

import signal as _signal
from dataclasses import asdict, dataclass, field
from typing import ClassVar

from sampan import errdefs
from sampan.shim import wire


@dataclass(frozen=True)
class ExitStatus:
    """How the container's init ended (exit.json, `wait` responses)."""

    exit_code: int
    exited_at: str
    pid: int = 0
    oom_killed: bool = False

    def to_wire(self) -> dict[str, object]:
        return wire.exit_record(self.exit_code, self.exited_at, self.pid, self.oom_killed)

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> ExitStatus:
        code, at = data.get("exit_code"), data.get("exited_at")
        if not isinstance(code, int) or not isinstance(at, str):
            raise wire.ProtocolError(f"not an exit status: {data!r}")
        pid = data.get("pid", 0)
        return cls(code, at, pid if isinstance(pid, int) else 0, bool(data.get("oom_killed", False)))


@dataclass(frozen=True)
class ShimState:
    """The `state` response."""

    id: str
    status: str  # created, running, paused, stopped
    pid: int
    tty: bool = False
    attached: int = 0
    exit: ExitStatus | None = None

    def to_wire(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "status": self.status, "pid": self.pid, "tty": self.tty,
                                  "attached": self.attached}
        if self.exit is not None:
            out["exit"] = self.exit.to_wire()
        return out

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> ShimState:
        exit_data = data.get("exit")
        pid, attached = data.get("pid", 0), data.get("attached", 0)
        return cls(id=str(data.get("id", "")), status=str(data.get("status", "")),
                   pid=pid if isinstance(pid, int) else 0, tty=bool(data.get("tty", False)),
                   attached=attached if isinstance(attached, int) else 0,
                   exit=ExitStatus.from_wire(exit_data) if isinstance(exit_data, dict) else None)


@dataclass(frozen=True)
class ExecState:
    """The `state` response for an exec'd process."""

    exec_id: str
    pid: int
    status: str  # running, stopped
    tty: bool = False
    exit: ExitStatus | None = None

    @classmethod
    def from_wire(cls, data: dict[str, object]) -> ExecState:
        exit_data, pid = data.get("exit"), data.get("pid", 0)
        return cls(exec_id=str(data.get("exec_id", "")), pid=pid if isinstance(pid, int) else 0,
                   status=str(data.get("status", "")), tty=bool(data.get("tty", False)),
                   exit=ExitStatus.from_wire(exit_data) if isinstance(exit_data, dict) else None)


@dataclass(frozen=True)
class Request:
    """Base of the requests; `op` names the operation on the wire."""

    op: ClassVar[str] = ""

    def to_wire(self) -> dict[str, object]:
        fields = asdict(self)
        if not fields.get("exec_id", True):  # no exec id: the request is about the init
            del fields["exec_id"]
        return {"op": self.op, **fields}

    def encode(self) -> bytes:
        return wire.encode(self.to_wire())


@dataclass(frozen=True)
class StateRequest(Request):
    op: ClassVar[str] = wire.OP_STATE
    exec_id: str = ""


@dataclass(frozen=True)
class StartRequest(Request):
    op: ClassVar[str] = wire.OP_START


@dataclass(frozen=True)
class KillRequest(Request):
    op: ClassVar[str] = wire.OP_KILL
    signal: int = int(_signal.SIGTERM)
    all: bool = False
    exec_id: str = ""  # signal this exec'd process instead (`all` does not apply)


@dataclass(frozen=True)
class WaitRequest(Request):
    op: ClassVar[str] = wire.OP_WAIT
    exec_id: str = ""


@dataclass(frozen=True)
class ResizeRequest(Request):
    op: ClassVar[str] = wire.OP_RESIZE
    height: int = 0
    width: int = 0
    exec_id: str = ""


@dataclass(frozen=True)
class AttachRequest(Request):
    op: ClassVar[str] = wire.OP_ATTACH
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    close_stdin: bool = True  # the client's half-close closes the container's stdin (StdinOnce)
    exec_id: str = ""


@dataclass(frozen=True)
class ExecRequest(Request):
    """Run `process` (an OCI process object) in the container; with `attach` the connection
    then carries its stream like `attach` does."""

    op: ClassVar[str] = wire.OP_EXEC
    exec_id: str = ""
    process: dict[str, object] = field(default_factory=dict)
    stdin: bool = False
    attach: bool = True
    stdout: bool = True
    stderr: bool = True
    close_stdin: bool = True


@dataclass(frozen=True)
class DeleteRequest(Request):
    op: ClassVar[str] = wire.OP_DELETE
    force: bool = False


@dataclass(frozen=True)
class ShutdownRequest(Request):
    op: ClassVar[str] = wire.OP_SHUTDOWN
    force: bool = False


@dataclass(frozen=True)
class PauseRequest(Request):
    op: ClassVar[str] = wire.OP_PAUSE


@dataclass(frozen=True)
class ResumeRequest(Request):
    op: ClassVar[str] = wire.OP_RESUME


REQUEST_TYPES: dict[str, type[Request]] = {cls.op: cls for cls in (
    StateRequest, StartRequest, KillRequest, WaitRequest, ResizeRequest, AttachRequest, DeleteRequest,
    ShutdownRequest, PauseRequest, ResumeRequest, ExecRequest)}


def request_from_wire(data: dict[str, object]) -> Request:
    """The typed request for a decoded line (unknown fields are an error, like the shim's)."""
    cls = REQUEST_TYPES.get(str(data.get("op")))
    if cls is None:
        raise wire.ProtocolError(f"unknown operation {data.get('op')!r}")
    fields = {k: v for k, v in data.items() if k != "op"}
    try:
        return cls(**fields)
    except TypeError as exc:
        raise wire.ProtocolError(f"{cls.op}: {exc}") from None


def check_response(data: dict[str, object]) -> dict[str, object]:
    """Raise the errdefs kind an error response names; return a success response as is."""
    if "error" not in data:
        return data
    kind = getattr(errdefs, str(data.get("kind", "System")), errdefs.System)
    if not (isinstance(kind, type) and issubclass(kind, errdefs.SampanError)):
        kind = errdefs.System
    raise kind(str(data["error"]))


def parse_signal(value: int | str) -> int:
    """A signal number from a number or a name (KILL, SIGKILL, 9), with Docker's error wording."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip().upper()
        if text.isdigit():
            number = int(text)
        else:
            name = text if text.startswith("SIG") else "SIG" + text
            try:
                number = int(_signal.Signals[name])
            except KeyError:
                raise errdefs.InvalidArgument(f"Invalid signal: {value}") from None
    if not 0 < number < 65:
        raise errdefs.InvalidArgument(f"Invalid signal: {value}")
    return number


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}


@dataclass(frozen=True)
class LogOptions:
    """json-file options as Docker's --log-opt gives them (max-size "10m", max-file "3")."""

    max_size: int = -1
    max_file: int = 1
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, opts: dict[str, str] | None) -> LogOptions:
        opts = dict(opts or {})
        max_size = -1
        if "max-size" in opts:
            raw = opts.pop("max-size").strip().lower()
            number = raw.rstrip("kmgbi").replace("i", "")
            unit = raw[len(number):].replace("i", "")
            try:
                max_size = int(float(number) * _UNITS[unit])
            except (ValueError, KeyError):
                raise errdefs.InvalidArgument(f"invalid value for max-size: {raw}") from None
            if max_size <= 0:
                raise errdefs.InvalidArgument(f"invalid value for max-size: {raw}")
        max_file = 1
        if "max-file" in opts:
            raw = opts.pop("max-file")
            try:
                max_file = int(raw)
            except ValueError:
                raise errdefs.InvalidArgument(f"invalid value for max-file: {raw}") from None
            if max_file < 1:
                raise errdefs.InvalidArgument("max-file cannot be less than 1")
            if max_size <= 0 and max_file > 1:
                raise errdefs.InvalidArgument("max-file cannot be set without max-size")
        return cls(max_size, max_file, opts)
