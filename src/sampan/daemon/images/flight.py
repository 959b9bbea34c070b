"""One job per key at a time across threads (blob downloads, layer unpacks).

The stores are the source of truth: a job first checks whether its result already exists,
so a latecomer simply waits for the leader and then runs the (now trivial) job itself.
That also makes a failed leader harmless: the next caller just tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Flights:
    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._running: dict[str, threading.Event] = {}

    def try_acquire(self, key: str) -> bool:
        """Become the leader for `key` without waiting; False when someone else leads."""
        with self._mu:
            if key in self._running:
                return False
            self._running[key] = threading.Event()
            return True

    def release(self, key: str) -> None:
        with self._mu:
            done = self._running.pop(key)
        done.set()

    def wait(self, key: str) -> None:
        with self._mu:
            ev = self._running.get(key)
        if ev is not None:
            ev.wait()

    def run(self, key: str, fn: Callable[[], T]) -> T:
        """Run `fn` as the only holder of `key`, waiting out any current holder first."""
        while not self.try_acquire(key):
            self.wait(key)
        try:
            return fn()
        finally:
            self.release(key)

    def busy(self, key: str) -> bool:
        with self._mu:
            return key in self._running
