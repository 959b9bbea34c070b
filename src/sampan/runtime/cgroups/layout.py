"""Which cgroup hierarchies are mounted under a root: pure v1, pure v2, or hybrid.

Real roots are read from /proc/self/mountinfo (filesystem types decide the mode). Fake roots in
tests pass `mode=` and are discovered from their directory names, the way Debian lays v1 out.
"""

from __future__ import annotations

import os
import posixpath

from sampan import errdefs
from sampan.runtime.record import Record

V1_CONTROLLERS = frozenset(
    {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio",
     "perf_event", "hugetlb", "pids", "rdma", "misc"}
)
MODES = ("v1", "v2", "hybrid")


class Layout(Record):
    """Mount points of the hierarchies in use.

    `v1` maps a controller name (or "name=systemd") to its hierarchy's mount point; `unified` is
    the cgroup2 mount point (the root itself in v2, root/unified in hybrid), or None in pure v1.
    """

    mode: str
    root: str
    v1: dict[str, str] = {}
    unified: str | None = None


def detect(root: str, mode: str | None = None, mountinfo: str = "/proc/self/mountinfo") -> Layout:
    root = posixpath.normpath(root)
    if mode is not None:
        if mode not in MODES:
            raise errdefs.InvalidArgument(f"invalid cgroup mode {mode!r}: want one of {', '.join(MODES)}")
        return _from_dirs(root, mode)
    return _from_mountinfo(root, mountinfo)


def _from_dirs(root: str, mode: str) -> Layout:
    if mode == "v2":
        return Layout(mode, root, {}, root)
    v1: dict[str, str] = {}
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name == "unified" or os.path.islink(path) or not os.path.isdir(path):
            continue
        for part in name.split(","):
            if part in V1_CONTROLLERS:
                v1[part] = path
            elif part in ("systemd", "name=systemd"):
                v1["name=systemd"] = path
    unified = os.path.join(root, "unified") if mode == "hybrid" else None
    return Layout(mode, root, v1, unified)


def _unescape(text: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040)."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 3 < len(text) and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str, str]]:
    """(mount point, fs type, super options) for every line of a mountinfo file."""
    rows = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        rows.append((_unescape(fields[4]), tail[0], tail[2]))
    return rows


def _from_mountinfo(root: str, mountinfo: str) -> Layout:
    with open(mountinfo, encoding="utf-8", errors="replace") as f:
        rows = parse_mountinfo(f.read())
    v1: dict[str, str] = {}
    unified: str | None = None
    for point, fstype, opts in rows:
        if fstype == "cgroup2":
            if point == root:
                return Layout("v2", root, {}, root)
            if point == posixpath.join(root, "unified"):
                unified = point
        elif fstype == "cgroup" and posixpath.dirname(point) == root:
            for opt in opts.split(","):
                if opt in V1_CONTROLLERS or opt.startswith("name="):
                    v1[opt] = point
    if not v1 and unified is None:
        raise errdefs.System(f"no cgroup filesystem is mounted under {root}")
    if not v1:
        return Layout("v2", root, {}, unified)
    return Layout("hybrid" if unified else "v1", root, v1, unified)


def own_cgroups(path: str = "/proc/self/cgroup") -> dict[str, str]:
    """This process's cgroup per controller (v1 names, "name=..." and "" for the unified one)."""
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[1] == "":
            out[""] = parts[2]
        for name in parts[1].split(","):
            if name:
                out[name] = parts[2]
    return out
