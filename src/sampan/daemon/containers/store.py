"""The in-memory index of container records: lookup by id, unique prefix or name.

Thread-safe; the records themselves are saved by their owners (record.py).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator

from sampan.daemon.containers.record import CONFIG_NAME, ContainerRecord
from sampan.errdefs import Conflict, InvalidArgument, NotFound

log = logging.getLogger(__name__)


class ContainerStore:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, mode=0o710, exist_ok=True)
        self._lock = threading.Lock()
        self._by_id: dict[str, ContainerRecord] = {}
        self._names: dict[str, str] = {}

    def load(self) -> list[ContainerRecord]:
        """Read every container directory; directories without a record (a crashed create) go."""
        import shutil

        for entry in sorted(os.listdir(self.root)):
            path = os.path.join(self.root, entry)
            if not os.path.exists(os.path.join(path, CONFIG_NAME)):
                log.info("removing incomplete container directory %s", path)
                shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                rec = ContainerRecord.load(path)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.error("cannot load container %s: %s", entry, exc)
                continue
            self._by_id[rec.id] = rec
            self._names[rec.name] = rec.id
        return list(self._by_id.values())

    def reserve(self, name: str, container_id: str) -> None:
        with self._lock:
            owner = self._names.get(name)
            if owner is not None and owner != container_id:
                raise Conflict(f'Conflict. The container name "/{name}" is already in use by container '
                               f'"{owner}". You have to remove (or rename) that container to be able to '
                               "reuse that name.")
            self._names[name] = container_id

    def release(self, name: str, container_id: str) -> None:
        with self._lock:
            if self._names.get(name) == container_id:
                del self._names[name]

    def name_taken(self, name: str) -> bool:
        with self._lock:
            return name in self._names

    def add(self, rec: ContainerRecord) -> None:
        with self._lock:
            self._by_id[rec.id] = rec

    def drop(self, rec: ContainerRecord) -> None:
        with self._lock:
            self._by_id.pop(rec.id, None)
            if self._names.get(rec.name) == rec.id:
                del self._names[rec.name]

    def get(self, ref: str) -> ContainerRecord:
        """By full id, by name (with or without '/'), or by unique id prefix, as Docker."""
        if not ref:
            raise InvalidArgument("No container name or ID supplied")
        with self._lock:
            rec = self._by_id.get(ref)
            if rec is not None:
                return rec
            cid = self._names.get(ref.lstrip("/"))
            if cid is not None and cid in self._by_id:
                return self._by_id[cid]
            found = [r for i, r in self._by_id.items() if i.startswith(ref)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    def all(self) -> list[ContainerRecord]:
        with self._lock:
            return list(self._by_id.values())

    def __iter__(self) -> Iterator[ContainerRecord]:
        return iter(self.all())
