"""The image metadata store: images, tags, repo digests, layers and distribution metadata.

SQLite in WAL mode with foreign keys on, so a tag can never point at a missing image and an
image can never list a layer row that is gone. Every change is one transaction; the
config blob itself lives in the content store (the image ID is its digest). One connection
per thread (sqlite objects are not shared across threads); writers serialise on a lock so
a pull's final transaction never waits on `database is locked`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS layers (
    chain_id TEXT PRIMARY KEY,
    diff_id  TEXT NOT NULL,
    parent   TEXT,
    size     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    id            TEXT PRIMARY KEY,
    created       INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    top_chain_id  TEXT REFERENCES layers(chain_id),
    labels        TEXT NOT NULL DEFAULT '{}',
    added         REAL NOT NULL,
    last_tag_time REAL
);
CREATE TABLE IF NOT EXISTS image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    chain_id TEXT NOT NULL REFERENCES layers(chain_id),
    PRIMARY KEY (image_id, idx)
);
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
CREATE TABLE IF NOT EXISTS tags (
    ref      TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id);
CREATE TABLE IF NOT EXISTS repo_digests (
    ref      TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);
CREATE TABLE IF NOT EXISTS dist_metadata (
    blob_digest TEXT NOT NULL,
    diff_id     TEXT NOT NULL,
    repository  TEXT NOT NULL,
    PRIMARY KEY (blob_digest, repository)
);
CREATE INDEX IF NOT EXISTS dist_metadata_diff ON dist_metadata(diff_id);
"""


@dataclass(frozen=True)
class LayerRow:
    chain_id: str
    diff_id: str
    parent: str | None
    size: int


@dataclass(frozen=True)
class ImageRow:
    id: str
    created: int
    size: int
    top_chain_id: str | None
    labels: dict[str, str]
    added: float
    last_tag_time: float | None
    chain_ids: tuple[str, ...]


@dataclass(frozen=True)
class NewImage:
    """Everything the final transaction of a pull writes at once."""

    id: str
    created: int
    labels: dict[str, str]
    chain_ids: Sequence[str]
    tag: str | None = None
    repo_digest: str | None = None


class MetadataStore:
    """SQLite-backed image records. Thread-safe: a connection per thread, one writer lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        conn = self._conn()
        with self._write_lock:
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta(key, value) VALUES('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise RuntimeError(f"{path}: schema version {row[0]} is newer than this sampan ({SCHEMA_VERSION})")
            conn.commit()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()
        self._local = threading.local()

    @contextlib.contextmanager
    def transaction(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT under the writer lock; `durable` fsyncs the commit (FULL)."""
        conn = self._conn()
        with self._write_lock:
            if durable:
                conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                if durable:
                    conn.execute("PRAGMA synchronous=NORMAL")

    # -- layers ----------------------------------------------------------------------------

    def add_layer(self, layer: LayerRow) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO layers(chain_id, diff_id, parent, size) VALUES(?,?,?,?)",
                (layer.chain_id, layer.diff_id, layer.parent, layer.size),
            )

    def get_layer(self, chain_id: str) -> LayerRow | None:
        row = self._conn().execute(
            "SELECT chain_id, diff_id, parent, size FROM layers WHERE chain_id=?", (chain_id,)
        ).fetchone()
        return LayerRow(*row) if row else None

    def layers(self) -> list[LayerRow]:
        rows = self._conn().execute("SELECT chain_id, diff_id, parent, size FROM layers").fetchall()
        return [LayerRow(*r) for r in rows]

    def unreferenced_layers(self) -> list[LayerRow]:
        """Layers no image uses and no other layer builds on: the ones safe to remove next."""
        rows = self._conn().execute(
            "SELECT chain_id, diff_id, parent, size FROM layers l WHERE "
            "NOT EXISTS (SELECT 1 FROM image_layers il WHERE il.chain_id = l.chain_id) AND "
            "NOT EXISTS (SELECT 1 FROM layers c WHERE c.parent = l.chain_id)"
        ).fetchall()
        return [LayerRow(*r) for r in rows]

    def delete_layer(self, chain_id: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM layers WHERE chain_id=?", (chain_id,))

    def add_dist_metadata(self, blob_digest: str, diff_id: str, repository: str) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO dist_metadata(blob_digest, diff_id, repository) VALUES(?,?,?)",
                (blob_digest, diff_id, repository),
            )

    def dist_metadata(self, diff_id: str) -> list[tuple[str, str]]:
        """(blob digest, repository) pairs known for a diff ID (for push and cross-repo mounts)."""
        rows = self._conn().execute(
            "SELECT blob_digest, repository FROM dist_metadata WHERE diff_id=? ORDER BY repository",
            (diff_id,),
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]

    # -- images ----------------------------------------------------------------------------

    def put_image(self, img: NewImage) -> bool:
        """Record an image with its tag and repo digest in one durable transaction.

        Returns whether a reference changed (the tag or digest was new or moved): Docker's
        "Downloaded newer image" versus "Image is up to date".
        """
        with self.transaction(durable=True) as c:
            size = 0
            for cid in img.chain_ids:
                row = c.execute("SELECT size FROM layers WHERE chain_id=?", (cid,)).fetchone()
                if row is None:
                    raise KeyError(f"layer {cid} is not recorded")
                size += int(row[0])
            exists = c.execute("SELECT 1 FROM images WHERE id=?", (img.id,)).fetchone()
            if not exists:
                c.execute(
                    "INSERT INTO images(id, created, size, top_chain_id, labels, added) VALUES(?,?,?,?,?,?)",
                    (img.id, img.created, size, img.chain_ids[-1] if img.chain_ids else None,
                     json.dumps(img.labels, sort_keys=True), time.time()),
                )
                c.executemany(
                    "INSERT INTO image_layers(image_id, idx, chain_id) VALUES(?,?,?)",
                    [(img.id, i, cid) for i, cid in enumerate(img.chain_ids)],
                )
            changed = False
            for table, ref in (("tags", img.tag), ("repo_digests", img.repo_digest)):
                if ref is None:
                    continue
                old = c.execute(f"SELECT image_id FROM {table} WHERE ref=?", (ref,)).fetchone()
                if old is None or old[0] != img.id:
                    changed = True
                    c.execute(f"INSERT OR REPLACE INTO {table}(ref, image_id) VALUES(?,?)", (ref, img.id))
            return changed

    def _image_from_row(self, row: tuple[object, ...]) -> ImageRow:
        chains = self._conn().execute(
            "SELECT chain_id FROM image_layers WHERE image_id=? ORDER BY idx", (row[0],)
        ).fetchall()
        return ImageRow(
            id=str(row[0]), created=int(row[1]), size=int(row[2]),  # type: ignore[call-overload]
            top_chain_id=row[3] if row[3] is None else str(row[3]),
            labels=json.loads(str(row[4])), added=float(row[5]),  # type: ignore[arg-type]
            last_tag_time=None if row[6] is None else float(row[6]),  # type: ignore[arg-type]
            chain_ids=tuple(str(r[0]) for r in chains),
        )

    _IMAGE_COLS = "id, created, size, top_chain_id, labels, added, last_tag_time"

    def get_image(self, image_id: str) -> ImageRow | None:
        row = self._conn().execute(f"SELECT {self._IMAGE_COLS} FROM images WHERE id=?", (image_id,)).fetchone()
        return self._image_from_row(row) if row else None

    def images(self) -> list[ImageRow]:
        rows = self._conn().execute(f"SELECT {self._IMAGE_COLS} FROM images ORDER BY created DESC, id").fetchall()
        return [self._image_from_row(r) for r in rows]

    def image_ids(self) -> list[str]:
        return [str(r[0]) for r in self._conn().execute("SELECT id FROM images").fetchall()]

    def image_count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM images").fetchone()[0])

    def search_ids(self, prefix: str) -> list[str]:
        """Image IDs whose hex starts with `prefix` (hex only, so no LIKE metacharacters)."""
        rows = self._conn().execute(
            "SELECT id FROM images WHERE substr(id, 8, ?) = ?", (len(prefix), prefix)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def delete_image(self, image_id: str) -> None:
        """Drop an image and (cascading) its tags, digests and layer list."""
        with self.transaction(durable=True) as c:
            c.execute("DELETE FROM images WHERE id=?", (image_id,))

    # -- references ------------------------------------------------------------------------

    def lookup_ref(self, ref: str) -> str | None:
        """The image a full tag or digest reference points at."""
        c = self._conn()
        row = c.execute("SELECT image_id FROM tags WHERE ref=?", (ref,)).fetchone()
        if row is None:
            row = c.execute("SELECT image_id FROM repo_digests WHERE ref=?", (ref,)).fetchone()
        return str(row[0]) if row else None

    def refs_of(self, image_id: str) -> tuple[list[str], list[str]]:
        """(tags, repo digests) of an image, full references."""
        c = self._conn()
        tags = [str(r[0]) for r in c.execute("SELECT ref FROM tags WHERE image_id=? ORDER BY ref", (image_id,))]
        digests = [str(r[0]) for r in c.execute(
            "SELECT ref FROM repo_digests WHERE image_id=? ORDER BY ref", (image_id,))]
        return tags, digests

    def set_tag(self, ref: str, image_id: str) -> None:
        with self.transaction(durable=True) as c:
            c.execute("INSERT OR REPLACE INTO tags(ref, image_id) VALUES(?,?)", (ref, image_id))
            c.execute("UPDATE images SET last_tag_time=? WHERE id=?", (time.time(), image_id))

    def remove_ref(self, ref: str) -> bool:
        """Remove a tag or repo digest; returns whether it existed."""
        with self.transaction(durable=True) as c:
            n = c.execute("DELETE FROM tags WHERE ref=?", (ref,)).rowcount
            n += c.execute("DELETE FROM repo_digests WHERE ref=?", (ref,)).rowcount
            return n > 0
