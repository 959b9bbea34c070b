"""The parent <-> container-init channel: newline-delimited JSON over two pipes.

The init reports progress ("userns", "pid", "mounted", "ready") and failures ("error" with a
message) so the parent can do the privileged steps in between (uid maps, cgroups, hooks)
and print the child's error before cleaning up. Pipes rather than a socketpair: the socket
module is a measurable part of every `create`'s start-up. Both fds are close-on-exec, so the
parent sees EOF once every child holding the write end has exec'd or exited.
"""

from __future__ import annotations

import os

from sampan.errdefs import System
from sampan.runtime import jsonc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any


class Channel:
    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self._buf = b""
        self._early: list[dict[str, Any]] = []  # messages that arrived before they were expected

    @classmethod
    def pair(cls) -> tuple[Channel, Channel]:
        """(parent end, child end)."""
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        return cls(c2p_r, p2c_w), cls(p2c_r, c2p_w)

    def send(self, kind: str, **fields: Any) -> None:
        data = jsonc.dumps({"type": kind, **fields}).encode() + b"\n"
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]

    def tell(self, kind: str, what: str, **fields: Any) -> None:
        """send, but a child that already died is reported with its own error message."""
        try:
            self.send(kind, **fields)
        except BrokenPipeError:
            while True:
                msg = self.recv()
                if msg is None:
                    raise System(f"{what}: container init exited without reporting")
                if msg.get("type") == "error":
                    raise System(msg.get("message", "container init failed"))

    def recv(self) -> dict[str, Any] | None:
        """The next message, or None when the other side closed without a word."""
        while b"\n" not in self._buf:
            chunk = os.read(self.rfd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        msg: dict[str, Any] = jsonc.loads(line)
        return msg

    def expect(self, kind: str, what: str) -> dict[str, Any]:
        """Wait for `kind`; an "error" message or EOF become a System error. Two processes
        (stage1 and the init it forks) write to one channel, so other kinds may come first:
        they are kept for a later expect."""
        for i, early in enumerate(self._early):
            if early.get("type") == kind:
                return self._early.pop(i)
        while True:
            msg = self.recv()
            if msg is None:
                raise System(f"{what}: container init exited without reporting")
            if msg.get("type") == "error":
                raise System(msg.get("message", "container init failed"))
            if msg.get("type") == kind:
                return msg
            if len(self._early) > 8:
                raise System(f"{what}: unexpected message {msg.get('type')!r} from container init")
            self._early.append(msg)

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.rfd = self.wfd = -1
