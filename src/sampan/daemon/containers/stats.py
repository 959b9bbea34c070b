"""`docker stats`: samples of a container's cgroup counters in Docker's StatsJSON shape.

The cgroup files are read by the runtime's readers (`runtime.cgroups.stats`, cgroup v1
controllers or the unified v2 group, whichever the init's /proc/<pid>/cgroup names); this
module adds what dockerd adds on top (host CPU time, online CPUs, the memory limit clamped to
the machine's memory, network counters) and drops what dockerd omits when it is empty
(`omitempty` fields), so clients see the same JSON they get from dockerd.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from sampan.daemon.containers.views import rfc3339
from sampan.runtime.cgroups import stats as cgstats

ZERO_READ = "0001-01-01T00:00:00Z"
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_BLKIO_KEYS = ("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
               "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
               "io_time_recursive", "sectors_recursive")
_NET_KEYS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes", "tx_packets", "tx_errors",
             "tx_dropped")


@dataclass(frozen=True)
class Host:
    """Where the counters live; unit tests point these at a fake tree."""

    cgroup_root: str = "/sys/fs/cgroup"
    proc: str = "/proc"
    online_cpus: int = 0  # 0: ask the host


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def cgroup_dirs(pid: int, host: Host = Host()) -> dict[str, str]:
    """controller -> directory of the process's cgroup ("" is the unified v2 group)."""
    out: dict[str, str] = {}
    v1 = False
    lines = [line.split(":", 2) for line in _read(f"{host.proc}/{pid}/cgroup").splitlines() if line.count(":") >= 2]
    for _, controllers, path in lines:
        for c in controllers.split(",") if controllers else []:
            v1 = True
            name = c.removeprefix("name=")
            out[name] = os.path.normpath(os.path.join(host.cgroup_root, name, path.lstrip("/")))
    for _, controllers, path in lines:
        if not controllers:  # hybrid hosts mount the unified tree at <root>/unified
            base = os.path.join(host.cgroup_root, "unified") if v1 else host.cgroup_root
            out[""] = os.path.normpath(os.path.join(base, path.lstrip("/")))
    # a v1 line like "cpu,cpuacct" names one directory mounted as cpu,cpuacct (and linked)
    for joined in [k for k in out if "," in k]:
        for c in joined.split(","):
            out.setdefault(c, out[joined])
    return out


def system_cpu_usage(stat: str = "/proc/stat") -> int:
    """All CPU time of the host in nanoseconds (what Docker reports as system_cpu_usage)."""
    for line in _read(stat).splitlines():
        if line.startswith("cpu "):
            return sum(int(x) for x in line.split()[1:8]) * 1_000_000_000 // _CLK_TCK
    return 0


def machine_memory(meminfo: str = "/proc/meminfo") -> int:
    for line in _read(meminfo).splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _online_cpus(host: Host) -> int:
    if host.online_cpus:
        return host.online_cpus
    try:
        return int(os.sysconf("SC_NPROCESSORS_ONLN"))
    except (ValueError, OSError):
        return os.cpu_count() or 1


def _empty_cpu() -> dict[str, Any]:
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def empty_stats(name: str = "", cid: str = "") -> dict[str, Any]:
    """What dockerd answers for a container that does not run: Go's zero StatsJSON."""
    out: dict[str, Any] = {
        "read": ZERO_READ, "preread": ZERO_READ, "pids_stats": {},
        "blkio_stats": dict.fromkeys(_BLKIO_KEYS), "num_procs": 0, "storage_stats": {},
        "cpu_stats": _empty_cpu(), "precpu_stats": _empty_cpu(), "memory_stats": {},
    }
    if name:
        out["name"] = name
    if cid:
        out["id"] = cid
    return out


def _cpu(raw: dict[str, Any] | None, host: Host) -> dict[str, Any]:
    cpu = _empty_cpu()
    if raw:
        usage = dict(raw.get("cpu_usage") or {})
        percpu = usage.pop("percpu_usage", None)
        cpu["cpu_usage"].update({k: int(v or 0) for k, v in usage.items()})
        if percpu:  # v1 only; omitempty
            cpu["cpu_usage"]["percpu_usage"] = [int(v) for v in percpu]
        cpu["throttling_data"].update({k: int(v or 0) for k, v in (raw.get("throttling_data") or {}).items()})
    cpu["system_cpu_usage"] = system_cpu_usage(f"{host.proc}/stat")
    cpu["online_cpus"] = _online_cpus(host)
    return cpu


def _memory(raw: dict[str, Any] | None, v2: bool, host: Host) -> dict[str, Any]:
    if not raw:
        return {}
    out: dict[str, Any] = {"usage": int(raw.get("usage") or 0)}
    if not v2:  # cgroup v2 has no max_usage/failcnt in dockerd's answer
        out["max_usage"] = int(raw.get("max_usage") or 0)
    out["stats"] = {k: int(v) for k, v in (raw.get("stats") or {}).items()}
    if not v2:
        out["failcnt"] = int(raw.get("failcnt") or 0)
    machine = machine_memory(f"{host.proc}/meminfo")
    limit = raw.get("limit")
    out["limit"] = min(int(limit), machine) if limit and machine else int(limit or machine)
    return {k: v for k, v in out.items() if v}  # Go's omitempty


def _pids(raw: dict[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    return {k: int(raw[k]) for k in ("current", "limit") if raw.get(k)}


def _blkio(raw: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(_BLKIO_KEYS)
    for key, entries in (raw or {}).items():
        if key in out:
            out[key] = list(entries) if entries else None
    return out


def networks(pid: int, host: Host = Host()) -> dict[str, dict[str, int]]:
    """Counters of the container's interfaces other than loopback (none: no `networks` key)."""
    out: dict[str, dict[str, int]] = {}
    for line in _read(f"{host.proc}/{pid}/net/dev").splitlines()[2:]:
        name, sep, rest = line.partition(":")
        name = name.strip()
        fields = rest.split()
        if not sep or name == "lo" or len(fields) < 12:
            continue
        rx, tx = fields[0:4], fields[8:12]
        out[name] = dict(zip(_NET_KEYS, (int(v) for v in rx + tx), strict=True))
    return out


def sample(pid: int, name: str = "", cid: str = "", host: Host = Host()) -> dict[str, Any]:
    """One reading of the counters of `pid`'s cgroup; precpu/preread are left at zero."""
    dirs = cgroup_dirs(pid, host)
    v1_dirs = {k: v for k, v in dirs.items() if k}
    v2 = not any(c in v1_dirs for c in ("cpuacct", "cpu", "memory", "pids", "blkio"))
    if v2 and "" in dirs:
        controllers = set(_read(os.path.join(dirs[""], "cgroup.controllers")).split())
        raw = cgstats.v2_stats(dirs[""], controllers)
    else:
        raw = cgstats.v1_stats(v1_dirs)
    out = empty_stats(name, cid)
    out["read"] = rfc3339(time.time_ns())
    out["cpu_stats"] = _cpu(raw.get("cpu_stats"), host)
    out["memory_stats"] = _memory(raw.get("memory_stats"), v2, host)
    out["pids_stats"] = _pids(raw.get("pids_stats"))
    out["blkio_stats"] = _blkio(raw.get("blkio_stats"))
    nets = networks(pid, host)
    if nets:
        out["networks"] = nets
    return out

