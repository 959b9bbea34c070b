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


class MigrationPrimer:
    """Moves a thread of ours into the cgroup it is already in, in the background.

    Why: moving a task between cgroups takes a global lock whose first writer after a quiet
    spell waits for an RCU grace period (8-15 ms here), holding the cgroup mutex meanwhile (so
    a cgroup mkdir waits too); writers in the next ~10 ms go through at once. Started first
    thing by create/run/exec, the wait overlaps their imports and config parsing, and the real
    moves of the container's processes are fast. A thread rather than a process: no fork.
    Harmless if it fails. wait() before forking: no thread may be running then."""

    __slots__ = ("_done",)

    def __init__(self) -> None:
        import _thread

        self._done = _thread.allocate_lock()
        self._done.acquire()
        try:
            _thread.start_new_thread(self._prime, ())
        except RuntimeError:
            self._done.release()

    def _prime(self) -> None:
        try:
            for _name, mountpoint, key in host_hierarchies():
                if key:
                    own = own_cgroup_paths().get(key, "/")
                    with open(os.path.join(mountpoint, own.lstrip("/"), "cgroup.procs"), "w") as f:
                        f.write("0")
                    break
        except Exception:
            pass
        finally:
            self._done.release()

    def wait(self) -> None:
        """Returns once the thread has done its move (or given up)."""
        with self._done:
            pass
