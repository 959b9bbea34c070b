"""Reading the host's cgroup hierarchies, for the container's /sys/fs/cgroup mount."""

from __future__ import annotations


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
