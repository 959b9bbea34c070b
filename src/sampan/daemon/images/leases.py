"""Chain IDs that in-progress pulls rely on, so image removal never pulls a layer from under them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence


class Leases:
    """Chain IDs an in-progress pull relies on; layer removal skips them (under `lock`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._held: dict[str, int] = {}

    @contextlib.contextmanager
    def hold(self, chains: Sequence[str]) -> Iterator[None]:
        with self.lock:
            for c in chains:
                self._held[c] = self._held.get(c, 0) + 1
        try:
            yield
        finally:
            with self.lock:
                for c in chains:
                    self._held[c] -= 1
                    if not self._held[c]:
                        del self._held[c]

    def held(self, chain: str) -> bool:
        with self.lock:
            return chain in self._held

    def count(self, chain: str) -> int:
        """How many in-progress pulls rely on `chain`."""
        with self.lock:
            return self._held.get(chain, 0)
