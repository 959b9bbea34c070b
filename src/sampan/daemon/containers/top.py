"""`docker top`: the host's `ps` output narrowed to the processes of a container's cgroup."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from sampan.errdefs import InvalidArgument, System

_CONTROLLERS = ("pids", "freezer", "memory", "cpu", "devices")


def container_pids(init_pid: int, cgroup_root: str = "/sys/fs/cgroup") -> set[int]:
    """Every process in the init's cgroup (v1: through one of its controllers; v2: unified)."""
    paths: dict[str, str] = {}
    with open(f"/proc/{init_pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                paths[c] = path
    candidates = [os.path.join(cgroup_root, c, paths[c].lstrip("/")) for c in _CONTROLLERS if c in paths]
    if "" in paths:
        candidates.append(os.path.join(cgroup_root, paths[""].lstrip("/")))
    for directory in candidates:
        try:
            with open(os.path.join(directory, "cgroup.procs")) as f:
                return {int(x) for x in f.read().split()}
        except OSError:
            continue
    return {init_pid}


def top(init_pid: int, ps_args: str = "") -> dict[str, Any]:
    args = ps_args.split() if ps_args else ["-ef"]
    pids = container_pids(init_pid)
    proc = subprocess.run(["ps", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise System(f"ps: {proc.stderr.strip() or 'exit status ' + str(proc.returncode)}")
    lines = proc.stdout.splitlines()
    if not lines:
        return {"Titles": [], "Processes": []}
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidArgument("Couldn't find PID field in ps output")
    pid_col = titles.index("PID")
    processes = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        try:
            pid = int(fields[pid_col])
        except (IndexError, ValueError):
            continue
        if pid in pids:
            processes.append(fields)
    return {"Titles": titles, "Processes": processes}
