"""OOM detection: counter files from /proc/PID/cgroup lines, summed from a fake cgroup tree."""

from __future__ import annotations

import os

from sampan.shim import oom

LINES = ["9:name=systemd:/", "4:memory:/sampan/c1", "1:cpu,cpuacct:/sampan/c1", "0::/sampan/c1"]


def test_candidates_for_v1_memory_and_v2() -> None:
    assert oom.candidate_files(LINES, root="/cg") == [
        "/cg/memory/sampan/c1/memory.oom_control", "/cg/sampan/c1/memory.events",
        "/cg/unified/sampan/c1/memory.events"]


def test_root_cgroup_is_never_used() -> None:
    assert oom.candidate_files(["4:memory:/", "0::/"], root="/cg") == []


def test_counters_summed(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    files = oom.candidate_files(LINES, root=root)
    os.makedirs(os.path.dirname(files[0]))
    with open(files[0], "w") as f:
        f.write("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    os.makedirs(os.path.dirname(files[1]))
    with open(files[1], "w") as f:
        f.write("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    assert oom.oom_kills(files) == 3  # the unified one is missing: counted as 0


def test_garbled_counters_count_zero(tmp_path: os.PathLike[str]) -> None:
    bad = os.path.join(tmp_path, "memory.events")
    with open(bad, "w") as f:
        f.write("oom_kill many\n")
    assert oom.oom_kills([bad]) == 0
    assert oom.counter_files(2**22 + 12345, root=str(tmp_path)) == []
