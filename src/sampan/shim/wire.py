"""The shim's wire formats, shared by the shim and its client: one codec for everything on the wire.

Kept free of dataclasses and typing on purpose: the shim process imports this module, and every
module it imports is paid for once per running container (see docs/shim-protocol.md).

- Control messages: one JSON object per line (UTF-8, `\\n`-terminated). A request names its
  operation in `op`; a response is an object without `error` on success, or
  `{"error": message, "kind": errdefs-class-name}` on failure.
- Attach output without a TTY: Docker's stdcopy framing (8-byte header: stream byte, three zero
  bytes, big-endian u32 length, then the payload).
- Times: RFC 3339 with nanoseconds, trailing zeros trimmed, like Go's time.RFC3339Nano in UTC.
"""

from __future__ import annotations

import _thread
import json
import os
import struct
import time

# Control operations.
OP_STATE = "state"
OP_START = "start"
OP_KILL = "kill"
OP_WAIT = "wait"
OP_RESIZE = "resize"
OP_ATTACH = "attach"
OP_DELETE = "delete"
OP_SHUTDOWN = "shutdown"
OP_PAUSE = "pause"
OP_RESUME = "resume"
OP_EXEC = "exec"
OPS = (OP_STATE, OP_START, OP_KILL, OP_WAIT, OP_RESIZE, OP_ATTACH, OP_DELETE, OP_SHUTDOWN, OP_PAUSE, OP_RESUME,
       OP_EXEC)

# A control line longer than this is a protocol error (requests are tiny).
MAX_LINE = 64 * 1024

# stdcopy stream bytes.
STDIN = 0
STDOUT = 1
STDERR = 2
STREAM_NAMES = {STDOUT: "stdout", STDERR: "stderr"}
_HEADER = struct.Struct(">BxxxI")
HEADER_SIZE = _HEADER.size

# Files in a shim's state directory.
SOCKET_NAME = "shim.sock"
SHIM_PID_NAME = "shim.pid"
INIT_PID_NAME = "init.pid"
EXIT_NAME = "exit.json"
CONSOLE_SOCKET_NAME = "console.sock"
RUNTIME_LOG_NAME = "runtime-log.json"
SHIM_LOG_NAME = "shim.log"

# Container status as the shim sees it (OCI runtime state names).
CREATED = "created"
RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"


class ProtocolError(ValueError):
    """A malformed control line or message."""


def encode(message: dict[str, object]) -> bytes:
    """One message as one line of compact JSON."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, object]:
    """Parse one line into a JSON object; anything else is a ProtocolError."""
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"invalid JSON message: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("a message must be a JSON object")
    return value


def error(message: str, kind: str = "System") -> dict[str, object]:
    """An error response; `kind` is the name of an errdefs class the client raises."""
    return {"error": message, "kind": kind}


def frame(stream: int, data: bytes) -> bytes:
    """Docker's stdcopy framing of one chunk."""
    return _HEADER.pack(stream, len(data)) + data


def parse_header(header: bytes) -> tuple[int, int]:
    """(stream, length) from an 8-byte stdcopy header."""
    if len(header) != HEADER_SIZE:
        raise ProtocolError(f"short stdcopy header: {len(header)} bytes")
    stream, length = _HEADER.unpack(header)
    if stream not in (STDIN, STDOUT, STDERR):
        raise ProtocolError(f"unknown stdcopy stream {stream}")
    return stream, length


def rfc3339nano(ns: int) -> str:
    """UTC time like Go's time.RFC3339Nano: nanoseconds with trailing zeros trimmed."""
    secs, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def exit_code_of(wait_status: int) -> int:
    """A waitpid status as a shell would report it: the code, or 128 + signal for a signal death."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    if os.WIFEXITED(wait_status):
        return os.WEXITSTATUS(wait_status)
    raise ValueError(f"wait status {wait_status:#x} is neither an exit nor a signal death")


def exit_record(exit_code: int, exited_at: str, pid: int, oom_killed: bool = False) -> dict[str, object]:
    """The content of exit.json and of a `wait` response."""
    return {"exit_code": exit_code, "exited_at": exited_at, "pid": pid, "oom_killed": oom_killed}


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write temp, fsync, rename, fsync the directory: the file is whole or absent."""
    tmp = f"{path}.tmp.{os.getpid()}.{_thread.get_ident()}"  # the daemon saves from several threads
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    dfd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
