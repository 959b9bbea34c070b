"""What both drivers share: records, numbered directories, crash recovery, usage."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator

from sampan.errdefs import AlreadyExists, InvalidArgument
from sampan.snapshot.copy import copy_tree, stop_copier
from sampan.snapshot.metastore import MetaStore, Record
from sampan.snapshot.mount import mounted_under
from sampan.snapshot.types import Mount, SnapshotInfo

log = logging.getLogger(__name__)


class BaseSnapshotter:
    """Directory per snapshot at `root/snapshots/<id>/` with `fs/` (and driver extras)."""

    driver_name = ""
    driver_key = ""  # what new_snapshotter records in the metadata
    independent_layers = False  # whether an active snapshot's apply_dir ignores its parent

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._snapshots = os.path.join(self.root, "snapshots")
        os.makedirs(self._snapshots, mode=0o700, exist_ok=True)
        self._meta = MetaStore(os.path.join(self.root, "metadata.db"))
        recorded = self._meta.get_meta("driver")
        if recorded is None:
            self._meta.set_meta("driver", self.driver_key)
        elif recorded != self.driver_key:
            self._meta.close()
            raise InvalidArgument(
                f"snapshot root {self.root} was created by the {recorded} driver, not {self.driver_key}"
            )
        self._remove_orphans()

    def close(self) -> None:
        self._meta.close()

    # -- layout ----------------------------------------------------------------------------

    def _dir(self, rec: Record | int) -> str:
        id_ = rec if isinstance(rec, int) else rec.id
        return os.path.join(self._snapshots, str(id_))

    def _fs(self, rec: Record | int) -> str:
        return os.path.join(self._dir(rec), "fs")

    def _remove_orphans(self) -> None:
        for path in self._meta.orphans(self._snapshots):
            if mounted_under(path):
                log.warning("leaving orphan snapshot dir %s: it is mounted", path)
                continue
            log.info("removing snapshot dir %s left without metadata", path)
            self._stop_orphan_work(path)
            _rmtree(path)

    # -- driver hooks ----------------------------------------------------------------------

    def _stop_orphan_work(self, path: str) -> None:
        """End anything a crashed process left writing into an orphan snapshot dir."""
        stop_copier(path)

    def _populate(self, path: str, parent: Record | None, kind: str) -> None:
        """Fill a new snapshot dir (`path` has an empty `fs/`)."""
        raise NotImplementedError

    def _mounts(self, rec: Record) -> list[Mount]:
        raise NotImplementedError

    def apply_dir(self, key: str) -> tuple[str, str]:
        raise NotImplementedError

    # -- lifecycle -------------------------------------------------------------------------

    def _create(self, key: str, parent: str | None, kind: str) -> list[Mount]:
        if not key:
            raise InvalidArgument("snapshot key must not be empty")
        if self._meta.exists(key):
            raise AlreadyExists(f"snapshot {key} already exists")
        parent_rec = None
        if parent is not None:
            parent_rec = self._meta.get(parent)
            if parent_rec.kind != "committed":
                raise InvalidArgument(f"parent snapshot {parent} is not committed")
        id_ = self._meta.new_id()
        path = self._dir(id_)
        os.mkdir(path, 0o700)
        try:
            os.mkdir(os.path.join(path, "fs"), 0o755)
            self._populate(path, parent_rec, kind)
            rec = self._meta.insert(key, id_, parent, kind)
        except BaseException:
            _rmtree(path)
            raise
        return self._mounts(rec)

    def prepare(self, key: str, parent: str | None) -> list[Mount]:
        return self._create(key, parent, "active")

    def view(self, key: str, parent: str | None) -> list[Mount]:
        return self._create(key, parent, "view")

    def mounts(self, key: str) -> list[Mount]:
        return self._mounts(self._meta.get(key))

    def commit(self, name: str, key: str) -> None:
        self._meta.commit(name, key)

    def copy_layer(self, key: str, source: str) -> None:
        """Fill active `key` (prepared without a parent) with committed `source`'s own layer:
        the same diff on another parent without unpacking it again (independent drivers)."""
        if not self.independent_layers:
            raise InvalidArgument(f"the {self.driver_name} driver cannot copy a single layer")
        rec = self._active(key)
        if rec.parent is not None:
            raise InvalidArgument(f"snapshot {key} already has parent {rec.parent}")
        src = self._meta.get(source)
        if src.kind != "committed":
            raise InvalidArgument(f"snapshot {source} is not committed")
        copy_tree(self._fs(src), self._fs(rec), pid_dir=self._dir(rec))

    def commit_onto(self, name: str, key: str, parent: str | None) -> None:
        """Commit `key` (prepared without a parent) as a layer on top of committed `parent`.
        Only drivers with `independent_layers` support it: there a layer's directory does not
        depend on its parents, so layers can be unpacked in parallel and stacked afterwards."""
        if not self.independent_layers:
            raise InvalidArgument(f"the {self.driver_name} driver cannot commit a layer onto another parent")
        rec = self._active(key)
        if rec.parent is not None:
            raise InvalidArgument(f"snapshot {key} already has parent {rec.parent}")
        self._meta.commit(name, key, onto=(parent,))

    def remove(self, key: str) -> None:
        rec = self._meta.delete(key)
        _rmtree(self._dir(rec))

    def stat(self, key: str) -> SnapshotInfo:
        return self._meta.get(key).info()

    def exists(self, key: str) -> bool:
        return self._meta.exists(key)

    def walk(self) -> Iterator[SnapshotInfo]:
        for rec in self._meta.records():
            yield rec.info()

    def usage(self, key: str) -> int:
        """Bytes allocated under the snapshot's own directory (hard links counted once)."""
        return disk_usage(self._dir(self._meta.get(key)))

    def _active(self, key: str) -> Record:
        rec = self._meta.get(key)
        if rec.kind != "active":
            raise InvalidArgument(f"snapshot {key} is not active")
        return rec


def disk_usage(path: str) -> int:
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [path]
    while stack:
        d = stack.pop()
        with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(d) as it:
            for ent in it:
                try:
                    st = ent.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if st.st_nlink > 1 and not ent.is_dir(follow_symlinks=False):
                    ino = (st.st_dev, st.st_ino)
                    if ino in seen:
                        continue
                    seen.add(ino)
                total += st.st_blocks * 512
                if ent.is_dir(follow_symlinks=False):
                    stack.append(ent.path)
    return total


def _rmtree(path: str) -> None:
    """Remove a snapshot dir; unreadable dirs (overlay's work/work is mode 000) get fixed up."""

    def retry(func: object, p: str, exc_info: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o700)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)

    if not os.path.lexists(path):
        return
    try:
        shutil.rmtree(path, onerror=retry)
    except RecursionError:  # absurdly deep trees: coreutils walks them iteratively
        subprocess.run(["rm", "-rf", "--one-file-system", "--", path], check=False)
