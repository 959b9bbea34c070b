"""Was the container OOM-killed? The kernel's oom_kill counter of its memory cgroup tells.

The counter is read once right after `create` (the init is in its cgroup then) and again when the
init is reaped (the runtime has not removed the cgroup yet); a higher count means the kernel's
OOM killer struck inside the container. cgroup v1 keeps it in memory.oom_control, v2 in
memory.events; on hybrid hosts both are tried.
"""

from __future__ import annotations

import os

CGROUP_ROOT = "/sys/fs/cgroup"


def counter_files(pid: int, root: str = CGROUP_ROOT) -> list[str]:
    """The files that hold the oom_kill count of pid's memory cgroup (those that exist)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [f for f in candidate_files(lines, root) if os.path.exists(f)]


def candidate_files(cgroup_lines: list[str], root: str = CGROUP_ROOT) -> list[str]:
    """Where the counters of the cgroups named in /proc/PID/cgroup lines would be."""
    files = []
    for line in cgroup_lines:
        _, controllers, path = line.split(":", 2)
        if path == "/":  # the root cgroup counts the whole host's OOM kills, not the container's
            continue
        if "memory" in controllers.split(","):
            files.append(os.path.join(root, "memory", path.lstrip("/"), "memory.oom_control"))
        elif controllers == "":
            for base in (root, os.path.join(root, "unified")):
                files.append(os.path.join(base, path.lstrip("/"), "memory.events"))
    return files


def oom_kills(files: list[str]) -> int:
    """The summed oom_kill counters (0 where unreadable: the cgroup may be gone)."""
    total = 0
    for path in files:
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        total += int(value)
        except (OSError, ValueError):
            continue
    return total
