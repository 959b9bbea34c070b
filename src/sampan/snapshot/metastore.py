"""Snapshot records in sqlite (WAL): one row per snapshot, numeric ids name the directories.

Ordering makes every crash point consistent: a directory is made before its row is
inserted and removed after its row is deleted, so the only debris a SIGKILL can leave is a
directory without a row, which `orphans()` reports for removal on open.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sampan.errdefs import AlreadyExists, Conflict, InvalidArgument, NotFound
from sampan.snapshot.types import SnapshotInfo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ids (id INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE IF NOT EXISTS snapshots (
    key TEXT PRIMARY KEY,
    id INTEGER NOT NULL UNIQUE,
    parent TEXT,
    kind TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Record:
    key: str
    id: int
    parent: str | None
    kind: str
    created: float

    def info(self) -> SnapshotInfo:
        return SnapshotInfo(self.key, self.parent, self.kind, self.created)


class MetaStore:
    def __init__(self, path: str) -> None:
        self._mu = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._mu:
            self._db.close()

    def get_meta(self, name: str) -> str | None:
        with self._mu:
            row = self._db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        with self._mu:
            self._db.execute("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", (name, value))

    def new_id(self) -> int:
        with self._mu:
            cur = self._db.execute("INSERT INTO ids DEFAULT VALUES")
            new = int(cur.lastrowid or 0)
            self._db.execute("DELETE FROM ids WHERE id < ?", (new,))
            return new

    def get(self, key: str) -> Record:
        with self._mu:
            row = self._db.execute(
                "SELECT key, id, parent, kind, created FROM snapshots WHERE key=?", (key,)
            ).fetchone()
        if row is None:
            raise NotFound(f"snapshot {key} does not exist")
        return Record(*row)

    def exists(self, key: str) -> bool:
        with self._mu:
            return self._db.execute("SELECT 1 FROM snapshots WHERE key=?", (key,)).fetchone() is not None

    def chain(self, key: str) -> list[Record]:
        """The record for `key` then its ancestors, nearest first."""
        out = [self.get(key)]
        while out[-1].parent is not None:
            out.append(self.get(out[-1].parent))
        return out

    def insert(self, key: str, id_: int, parent: str | None, kind: str) -> Record:
        """Add a record; the parent must still be a committed snapshot at this instant
        (a concurrent remove of the parent makes this fail rather than leave a dangling child)."""
        rec = Record(key, id_, parent, kind, time.time())
        with self._mu:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if parent is not None:
                    row = self._db.execute("SELECT kind FROM snapshots WHERE key=?", (parent,)).fetchone()
                    if row is None:
                        raise NotFound(f"parent snapshot {parent} does not exist")
                    if row[0] != "committed":
                        raise InvalidArgument(f"parent snapshot {parent} is not committed")
                self._db.execute(
                    "INSERT INTO snapshots(key, id, parent, kind, created) VALUES (?, ?, ?, ?, ?)",
                    (rec.key, rec.id, rec.parent, rec.kind, rec.created),
                )
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                raise AlreadyExists(f"snapshot {key} already exists")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return rec

    def commit(self, name: str, key: str, *, onto: tuple[str | None] | None = None) -> None:
        """Make active `key` the committed `name`; `onto=(parent,)` also sets its parent,
        which must be committed at this instant (layers unpacked apart from their parents)."""
        with self._mu:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT kind, parent FROM snapshots WHERE key=?", (key,)).fetchone()
                if row is None:
                    raise NotFound(f"snapshot {key} does not exist")
                if row[0] != "active":
                    raise InvalidArgument(f"snapshot {key} is not active: cannot commit a {row[0]} snapshot")
                if self._db.execute("SELECT 1 FROM snapshots WHERE key=?", (name,)).fetchone():
                    raise AlreadyExists(f"snapshot {name} already exists")
                parent = row[1] if onto is None else onto[0]
                if onto is not None and parent is not None:
                    prow = self._db.execute("SELECT kind FROM snapshots WHERE key=?", (parent,)).fetchone()
                    if prow is None:
                        raise NotFound(f"parent snapshot {parent} does not exist")
                    if prow[0] != "committed":
                        raise InvalidArgument(f"parent snapshot {parent} is not committed")
                self._db.execute(
                    "UPDATE snapshots SET key=?, kind='committed', created=?, parent=? WHERE key=?",
                    (name, time.time(), parent, key),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete(self, key: str) -> Record:
        with self._mu:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT key, id, parent, kind, created FROM snapshots WHERE key=?", (key,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"snapshot {key} does not exist")
                if self._db.execute("SELECT 1 FROM snapshots WHERE parent=? LIMIT 1", (key,)).fetchone():
                    raise Conflict(f"cannot remove snapshot {key}: it has children")
                self._db.execute("DELETE FROM snapshots WHERE key=?", (key,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Record(*row)

    def records(self) -> Iterator[Record]:
        with self._mu:
            rows = self._db.execute("SELECT key, id, parent, kind, created FROM snapshots ORDER BY id").fetchall()
        for row in rows:
            yield Record(*row)

    def orphans(self, snapshots_dir: str) -> list[str]:
        """Directories under `snapshots_dir` that no record owns."""
        known = {str(r.id) for r in self.records()}
        return [os.path.join(snapshots_dir, n) for n in os.listdir(snapshots_dir) if n not in known]
