"""Copying snapshot trees with `cp -a` (GNU coreutils: fast, in C, reflinks where the
filesystem can), recording the copier's pid so a crashed process's copy can be ended."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

from sampan.errdefs import System

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
