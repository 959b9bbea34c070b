"""Mounting snapshot mounts with `/bin/mount` (a cold path: once per container start).

The project's only ctypes user is `sampan.linux`; until it offers mount(2) these helpers
shell out to util-linux, which also handles the read-only bind remount.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile

from sampan.errdefs import System
from sampan.snapshot.types import Mount

log = logging.getLogger(__name__)

_MOUNT = shutil.which("mount", path="/usr/bin:/bin:/usr/sbin:/sbin") or "/bin/mount"
_MAX_OPTIONS = 4095  # mount(2) copies at most one page of option data
_UMOUNT = shutil.which("umount", path="/usr/bin:/bin:/usr/sbin:/sbin") or "/bin/umount"


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise System(f"{' '.join(argv)}: {proc.stderr.strip() or f'exit status {proc.returncode}'}")


def mount_argv(m: Mount, target: str) -> list[str]:
    """The `mount` command line for one mount (bind mounts pass no -t)."""
    options = list(m.options)
    if m.type == "bind":
        if "bind" not in options and "rbind" not in options:
            options.append("rbind")
        return [_MOUNT, "--no-mtab", "-o", ",".join(options), m.source, target]
    argv = [_MOUNT, "--no-mtab", "-t", m.type]
    if options:
        argv += ["-o", ",".join(options)]
    return [*argv, m.source, target]


def mount_all(mounts: list[Mount], target: str) -> None:
    """Mount each of `mounts` on `target` in order; undo what was done if one fails."""
    for m in mounts:
        if len(",".join(m.options)) > _MAX_OPTIONS:
            layers = sum(o.startswith("lowerdir=") and o.count(":") + 1 for o in m.options)
            raise System(f"cannot mount {layers} layers on {target}: the {m.type} options exceed one page")
    done = 0
    try:
        for m in mounts:
            _run(mount_argv(m, target))
            done += 1
    except BaseException:
        for _ in range(done):
            _run([_UMOUNT, target])
        raise


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return [_unescape(line.split(" ", 5)[4]) for line in f if line.count(" ") >= 5]


def is_mounted(target: str) -> bool:
    """Whether something is mounted on `target` (unlike os.path.ismount, sees same-fs binds)."""
    return os.path.realpath(target) in _mount_points()


def mounted_under(path: str) -> bool:
    """Whether `path` or anything below it is a mount point."""
    real = os.path.realpath(path)
    return any(p == real or p.startswith(real + "/") for p in _mount_points())


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    if "\\" not in field:
        return field
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def unmount_all(target: str) -> None:
    """Unmount everything stacked on `target` (no error if nothing is mounted)."""
    for _ in range(64):
        if not is_mounted(target):
            return
        _run([_UMOUNT, target])
    raise System(f"cannot unmount {target}: still mounted after 64 unmounts")


def overlay_supported(root: str) -> bool:
    """Whether overlayfs (two lowers, upper and work on `root`'s filesystem) mounts here."""
    if os.geteuid() != 0:
        return False
    _remove_stale_probes(root)
    probe = tempfile.mkdtemp(prefix=_PROBE_PREFIX, dir=root)
    try:
        for name in ("l1", "l2", "upper", "work", "merged"):
            os.mkdir(os.path.join(probe, name))
        m = Mount(
            "overlay",
            "overlay",
            [f"lowerdir={probe}/l1:{probe}/l2", f"upperdir={probe}/upper", f"workdir={probe}/work"],
        )
        try:
            mount_all([m], os.path.join(probe, "merged"))
        except System as e:
            log.info("overlayfs not usable on %s: %s", root, e)
            return False
        unmount_all(os.path.join(probe, "merged"))
        return True
    finally:
        shutil.rmtree(probe, ignore_errors=True)


_PROBE_PREFIX = ".overlay-probe-"


def _remove_stale_probes(root: str) -> None:
    """Probe dirs a crashed process left behind (possibly still mounted)."""
    for name in os.listdir(root):
        if name.startswith(_PROBE_PREFIX):
            merged = os.path.join(root, name, "merged")
            try:
                unmount_all(merged)
            except System as e:
                log.warning("cannot unmount stale overlay probe %s: %s", merged, e)
                continue
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def backing_filesystem(path: str) -> str:
    """The filesystem type holding `path`, named as `docker info` names it ("extfs", "xfs")."""
    real = os.path.realpath(path)
    best, fstype = "", "unknown"
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields = pre.split(" ")
            if len(fields) < 5 or not post:
                continue
            point = _unescape(fields[4])
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, fstype = point, post.split(" ", 1)[0]
    return "extfs" if fstype in ("ext2", "ext3", "ext4") else fstype
