"""OOM detection from a fake cgroup tree: counters found from /proc/PID/cgroup, then summed."""

from __future__ import annotations

import os

from sampan.shim import oom


def own_memory_path() -> tuple[str, str]:
    """(v1 memory path, v2 path) of this process, as /proc/self/cgroup says."""
    v1 = v2 = ""
    with open("/proc/self/cgroup") as f:
        for line in f.read().splitlines():
            _, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):
                v1 = path
            elif controllers == "":
                v2 = path
    return v1, v2


def test_counters_found_and_summed(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    v1, v2 = own_memory_path()
    expected = []
    if v1:
        d = os.path.join(root, "memory", v1.lstrip("/"))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "memory.oom_control"), "w") as f:
            f.write("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        expected.append(os.path.join(d, "memory.oom_control"))
    d2 = os.path.join(root, v2.lstrip("/"))
    os.makedirs(d2, exist_ok=True)
    with open(os.path.join(d2, "memory.events"), "w") as f:
        f.write("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    expected.append(os.path.join(d2, "memory.events"))
    files = oom.counter_files(os.getpid(), root=root)
    assert sorted(files) == sorted(expected)
    assert oom.oom_kills(files) == (3 if v1 else 1)


def test_missing_or_garbled_counters_count_zero(tmp_path: os.PathLike[str]) -> None:
    bad = os.path.join(tmp_path, "memory.events")
    with open(bad, "w") as f:
        f.write("oom_kill many\n")
    assert oom.oom_kills([bad, os.path.join(tmp_path, "gone")]) == 0
    assert oom.counter_files(2**22 + 12345, root=str(tmp_path)) == []
