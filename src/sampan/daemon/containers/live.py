"""What the daemon holds in memory for a container while it lives: its lock, its shim client,
the callbacks of /wait callers and of attaches that wait for the start."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sampan.shim.client import ShimClient
from sampan.shim.wire import rfc3339nano

log = logging.getLogger(__name__)

WaitCallback = Callable[[int, str], None]  # exit code, error text
AttachCallback = Callable[[socket.socket | None, BaseException | None], None]


@dataclass
class PendingAttach:
    stdin: bool
    stdout: bool
    stderr: bool
    callback: AttachCallback


@dataclass
class Live:
    lock: threading.RLock = field(default_factory=threading.RLock)
    shim: ShimClient | None = None
    exited: threading.Event = field(default_factory=threading.Event)
    waiters: list[tuple[str, WaitCallback]] = field(default_factory=list)
    pending: list[PendingAttach] = field(default_factory=list)
    restart_delay: float = 0.0

    def fire(self, conditions: tuple[str, ...], code: int, error: str = "") -> None:
        keep: list[tuple[str, WaitCallback]] = []
        fire: list[tuple[str, WaitCallback]] = []
        for cond, cb in self.waiters:
            (fire if cond in conditions else keep).append((cond, cb))
        self.waiters = keep
        for _, cb in fire:
            try:
                cb(code, error)
            except Exception:
                log.exception("wait callback failed")


def now() -> str:
    return rfc3339nano(time.time_ns())


def wait_gone(pid: int, timeout: float = 2.0) -> None:
    """Until process `pid` is gone (a shim that removes its state directory as it exits)."""
    deadline = time.monotonic() + timeout
    while pid > 0 and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.002)


def start_exit_code(message: str) -> int:
    """The exit code Docker records for a start that failed (the CLI picks 126/127 the same way)."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message:
        return 126
    return 128
