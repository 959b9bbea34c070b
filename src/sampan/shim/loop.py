"""A single-threaded event loop over `selectors`: fd callbacks, timers and signals.

asyncio would cost about 13 MiB per container; this loop costs next to nothing. Signals arrive
through `signal.set_wakeup_fd` so handlers run in the loop, never in the middle of other work.
"""

from __future__ import annotations

import heapq
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable

FdCallback = Callable[[int], None]  # receives the ready event mask


class Loop:
    def __init__(self) -> None:
        self._sel = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self._cancelled: set[int] = set()
        self._signal_handlers: dict[int, Callable[[], None]] = {}
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self.running = False

    # --- file descriptors -------------------------------------------------------------
    def watch(self, fd: int, events: int, callback: FdCallback) -> None:
        """Call `callback(mask)` while fd is ready for `events`; replaces an earlier watch."""
        if events == 0:
            self.unwatch(fd)
            return
        try:
            self._sel.modify(fd, events, callback)
        except KeyError:
            self._sel.register(fd, events, callback)

    def unwatch(self, fd: int) -> None:
        try:
            self._sel.unregister(fd)
        except (KeyError, ValueError):
            pass

    def watching(self, fd: int) -> int:
        """The events fd is watched for (0 if none)."""
        try:
            return self._sel.get_key(fd).events
        except (KeyError, ValueError):
            return 0

    # --- timers -----------------------------------------------------------------------
    def call_later(self, delay: float, callback: Callable[[], None]) -> int:
        self._seq += 1
        heapq.heappush(self._timers, (time.monotonic() + delay, self._seq, callback))
        return self._seq

    def cancel(self, handle: int) -> None:
        self._cancelled.add(handle)

    # --- signals ----------------------------------------------------------------------
    def on_signal(self, signum: int, callback: Callable[[], None]) -> None:
        """Run callback in the loop after signum arrives (coalesced like the kernel does)."""
        if self._wake_r is None:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
            self.watch(self._wake_r.fileno(), selectors.EVENT_READ, self._on_wakeup)
        self._signal_handlers[signum] = callback
        signal.signal(signum, _noop_handler)

    def _on_wakeup(self, _mask: int) -> None:
        assert self._wake_r is not None
        try:
            data = self._wake_r.recv(4096)
        except BlockingIOError:
            return
        for signum in sorted(set(data)):
            handler = self._signal_handlers.get(signum)
            if handler is not None:
                handler()

    # --- running ----------------------------------------------------------------------
    def run(self) -> None:
        self.running = True
        while self.running:
            self.run_once()

    def run_once(self, max_wait: float | None = None) -> None:
        """Run due timers, wait for ready fds (at most max_wait seconds), run their callbacks."""
        timeout = self._run_due_timers()
        if max_wait is not None:
            timeout = max_wait if timeout is None else min(timeout, max_wait)
        for key, mask in self._sel.select(timeout):
            callback: FdCallback = key.data
            callback(mask)

    def stop(self) -> None:
        self.running = False

    def _run_due_timers(self) -> float | None:
        while self._timers:
            when, seq, callback = self._timers[0]
            if seq in self._cancelled:
                heapq.heappop(self._timers)
                self._cancelled.discard(seq)
                continue
            delay = when - time.monotonic()
            if delay > 0:
                return delay
            heapq.heappop(self._timers)
            callback()
        return None

    def close(self) -> None:
        if self._wake_w is not None:
            signal.set_wakeup_fd(-1)
            self._wake_w.close()
        if self._wake_r is not None:
            self._wake_r.close()
        self._sel.close()


def _noop_handler(_signum: int, _frame: object) -> None:
    """A Python-level handler so the signal reaches the wakeup fd; the loop does the work."""


def set_nonblocking(fd: int) -> None:
    os.set_blocking(fd, False)
