"""Reading the host's cgroup hierarchies, for the container's /sys/fs/cgroup mount; and
priming the kernel's cgroup migration lock before create moves the container init."""

from __future__ import annotations

import os


def host_hierarchies(base: str = "/sys/fs/cgroup") -> list[tuple[str, str, str]]:
    """(name under base, mount point, key in /proc/self/cgroup) for each cgroup mount below base."""
    own = own_cgroup_paths()
    out: list[tuple[str, str, str]] = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            mountpoint = pre.split()[4]
            fstype, _src, opts = [*post.split(), "", "", ""][:3]
            if fstype not in ("cgroup", "cgroup2") or not mountpoint.startswith(base + "/"):
                continue
            name = mountpoint[len(base) + 1:]
            if fstype == "cgroup2":
                out.append((name, mountpoint, ""))
                continue
            words = set(opts.split(","))
            key = next((k for k in own if k and set(k.split(",")) <= words), None)
            if key is not None:
                out.append((name, mountpoint, key))
    if any(key for _n, _m, key in out):
        out = [h for h in out if h[2]]  # hybrid: like runc, only the v1 hierarchies
    return out


def own_cgroup_paths(pid: str = "self") -> dict[str, str]:
    """Controller list (as in /proc/<pid>/cgroup, "" for v2) -> cgroup path."""
    out: dict[str, str] = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _num, controllers, path = line.rstrip("\n").split(":", 2)
            out[controllers] = path
    return out


def prime_migration_lock() -> int:
    """Fork a helper that moves itself into the cgroup it is already in; returns its pid (0 if
    the fork failed). Why: moving a task between cgroups takes a global lock whose first writer
    after a quiet spell waits for an RCU grace period (8-15 ms here); writers in the next ~10 ms
    go through at once. The helper pays that wait while create parses config and loads the
    cgroup manager, so the real move of the container init is fast. Harmless if it fails."""
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    try:
        for _name, mountpoint, key in host_hierarchies():
            if key:
                own = own_cgroup_paths().get(key, "/")
                with open(os.path.join(mountpoint, own.lstrip("/"), "cgroup.procs"), "w") as f:
                    f.write("0")
                break
    finally:
        os._exit(0)
