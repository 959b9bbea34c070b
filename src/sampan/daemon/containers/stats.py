"""`docker stats`: one sample of a container's cgroup counters in Docker's StatsJSON shape.

Counters are read from the init's cgroup (v1 controllers, or the unified v2 group); the
client computes CPU percent from two samples, so `precpu_stats` is the previous one.
"""

from __future__ import annotations

import os
from typing import Any

from sampan.daemon.containers.views import rfc3339

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
ZERO_READ = "0001-01-01T00:00:00Z"


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _int(path: str) -> int:
    text = _read(path)
    return int(text) if text.isdigit() else 0


def cgroup_dirs(pid: int, root: str = "/sys/fs/cgroup") -> dict[str, str]:
    """controller -> directory of the process's cgroup ("" for the unified hierarchy)."""
    out = {}
    for line in _read(f"/proc/{pid}/cgroup").splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            base = os.path.join(root, c) if c else os.path.join(root, "unified")
            if not c and not os.path.isdir(os.path.join(base, path.lstrip("/"))):
                base = root
            out[c] = os.path.join(base, path.lstrip("/"))
    return out


def system_cpu_usage(stat: str = "/proc/stat") -> int:
    """All CPU time of the host in nanoseconds (what Docker reports as system_cpu_usage)."""
    for line in _read(stat).splitlines():
        if line.startswith("cpu "):
            return sum(int(x) for x in line.split()[1:8]) * 1_000_000_000 // _CLK_TCK
    return 0


def empty_stats() -> dict[str, Any]:
    cpu = {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
           "system_cpu_usage": 0, "online_cpus": 0, "throttling_data": {"periods": 0, "throttled_periods": 0,
                                                                        "throttled_time": 0}}
    return {"read": ZERO_READ, "preread": ZERO_READ, "pids_stats": {}, "blkio_stats": {
        "io_service_bytes_recursive": None, "io_serviced_recursive": None}, "num_procs": 0,
        "storage_stats": {}, "cpu_stats": cpu, "precpu_stats": dict(cpu), "memory_stats": {}}


def sample(pid: int) -> dict[str, Any]:
    """One reading of the counters of `pid`'s cgroup."""
    import time

    dirs = cgroup_dirs(pid)
    out = empty_stats()
    out["read"] = rfc3339(time.time_ns())
    cpu = dirs.get("cpuacct") or dirs.get("cpu,cpuacct")
    if cpu:
        percpu = [int(x) for x in _read(os.path.join(cpu, "cpuacct.usage_percpu")).split() if x.isdigit()]
        out["cpu_stats"]["cpu_usage"] = {
            "total_usage": _int(os.path.join(cpu, "cpuacct.usage")), "percpu_usage": percpu,
            "usage_in_kernelmode": _int(os.path.join(cpu, "cpuacct.usage_sys")),
            "usage_in_usermode": _int(os.path.join(cpu, "cpuacct.usage_user"))}
    elif "" in dirs:
        fields = dict(line.split() for line in _read(os.path.join(dirs[""], "cpu.stat")).splitlines() if " " in line)
        out["cpu_stats"]["cpu_usage"] = {"total_usage": int(fields.get("usage_usec", 0)) * 1000,
                                         "usage_in_kernelmode": int(fields.get("system_usec", 0)) * 1000,
                                         "usage_in_usermode": int(fields.get("user_usec", 0)) * 1000}
    out["cpu_stats"]["system_cpu_usage"] = system_cpu_usage()
    out["cpu_stats"]["online_cpus"] = os.cpu_count() or 1
    mem = dirs.get("memory")
    if mem:
        stats = {k: int(v) for k, v in (line.split() for line in _read(os.path.join(mem, "memory.stat")).splitlines())
                 if v.isdigit()}
        out["memory_stats"] = {"usage": _int(os.path.join(mem, "memory.usage_in_bytes")),
                               "max_usage": _int(os.path.join(mem, "memory.max_usage_in_bytes")),
                               "limit": _int(os.path.join(mem, "memory.limit_in_bytes")), "stats": stats}
    pids = dirs.get("pids")
    if pids:
        out["pids_stats"] = {"current": _int(os.path.join(pids, "pids.current"))}
        limit = _read(os.path.join(pids, "pids.max"))
        if limit.isdigit():
            out["pids_stats"]["limit"] = int(limit)
    return out
