"""Native (copy) driver for filesystems without overlayfs: each active snapshot is a full
copy of its parent (hard links, xattrs, devices and ownership kept), bind mounted.

The copy runs `cp -a` (GNU coreutils: fast, in C, reflinks where the filesystem can).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from sampan.errdefs import System
from sampan.snapshot.base import BaseSnapshotter
from sampan.snapshot.metastore import Record
from sampan.snapshot.types import Mount

_CP = "/bin/cp" if os.path.exists("/bin/cp") else "/usr/bin/cp"


_PID_FILE = ".copying.pid"


def copy_tree(src: str, dst: str, pid_dir: str | None = None) -> None:
    """Copy the contents and attributes of directory `src` onto the existing `dst`.

    With `pid_dir`, the copier's pid is recorded there while it runs, so that after a crash
    of this process `stop_copier` can end a copy that outlived it."""
    proc = subprocess.Popen(
        [_CP, "-a", "--reflink=auto", "--no-target-directory", f"{src}/.", dst],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = os.path.join(pid_dir, _PID_FILE) if pid_dir else None
    if pid_file:
        with open(pid_file, "w", encoding="ascii") as f:
            f.write(str(proc.pid))
    try:
        _, err = proc.communicate()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        if pid_file:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(pid_file)
    if proc.returncode != 0:
        raise System(f"failed to copy snapshot {src} to {dst}: {err.strip()}")


def stop_copier(snapshot_dir: str) -> None:
    """Kill a copy into `snapshot_dir` left running by a crashed process (checked by cmdline)."""
    try:
        with open(os.path.join(snapshot_dir, _PID_FILE), encoding="ascii") as f:
            pid = int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return
    if pid <= 0:
        return
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except FileNotFoundError:
        return
    if os.fsencode(os.path.join(snapshot_dir, "fs")) not in argv:
        return  # the pid was reused by something else
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(100):  # it is not our child: wait for /proc to drop it
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.01)


class NativeSnapshotter(BaseSnapshotter):
    driver_name = "vfs"
    driver_key = "native"

    def _populate(self, path: str, parent: Record | None, kind: str) -> None:
        if kind == "active" and parent is not None:
            copy_tree(self._fs(parent), os.path.join(path, "fs"), pid_dir=path)

    def driver_status(self) -> list[tuple[str, str]]:
        """dockerd's vfs driver reports nothing."""
        return []

    def _stop_orphan_work(self, path: str) -> None:
        stop_copier(path)

    def _mounts(self, rec: Record) -> list[Mount]:
        if rec.kind == "active":
            return [Mount("bind", self._fs(rec), ["rw", "rbind"])]
        if rec.kind == "view" and rec.parent is not None:
            # Committed snapshots never change, so a view can show the parent's copy directly.
            return [Mount("bind", self._fs(self._meta.get(rec.parent)), ["ro", "rbind"])]
        return [Mount("bind", self._fs(rec), ["ro", "rbind"])]

    def apply_dir(self, key: str) -> tuple[str, str]:
        return self._fs(self._active(key)), "native"
