"""Pull progress as Docker's JSON messages, serialised across threads and throttled per layer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sampan.api.progress import JSONMessage

_INTERVAL = 0.1  # at most ~10 progress updates per layer per second


class PullProgress:
    def __init__(self, sink: Callable[[JSONMessage], None]) -> None:
        self._sink = sink
        self._mu = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}

    def status(self, status: str, id: str = "") -> None:
        self._emit(JSONMessage(status=status, id=id))

    def update(self, id: str, status: str, current: int, total: int) -> None:
        """A throttled progress line; the first and the final update always go out."""
        now = time.monotonic()
        key = (id, status)
        with self._mu:
            last = self._last.get(key)
            if last is not None and current < total and now - last < _INTERVAL:
                return
            self._last[key] = now
        self._emit(JSONMessage(status=status, id=id, current=current, total=total))

    def _emit(self, msg: JSONMessage) -> None:
        with self._mu:
            self._sink(msg)
