"""Resource usage of a cgroup, in the shape of Docker's stats API (the daemon adds host fields).

Keys (missing controllers leave their section out; None means unlimited or unknown):
- cpu_stats: {cpu_usage: {total_usage, percpu_usage, usage_in_kernelmode, usage_in_usermode}
  (nanoseconds), throttling_data: {periods, throttled_periods, throttled_time (ns)}}
- memory_stats: {usage, max_usage, limit, failcnt (bytes / count), stats: {memory.stat keys}}
- pids_stats: {current, limit}
- blkio_stats: {io_service_bytes_recursive, io_serviced_recursive: [{major, minor, op, value}]}
"""

from __future__ import annotations

import os

from . import fsutil

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from typing import Any

_UNLIMITED_V1 = 1 << 62  # v1 reports "no limit" as a page-rounded LONG_MAX


def _limit(value: int | None) -> int | None:
    return None if value is None or value >= _UNLIMITED_V1 else value


def v1_stats(dirs: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "cpuacct" in dirs or "cpu" in dirs:
        out["cpu_stats"] = _v1_cpu(dirs.get("cpuacct"), dirs.get("cpu"))
    if "memory" in dirs:
        out["memory_stats"] = _v1_memory(dirs["memory"])
    if "pids" in dirs:
        out["pids_stats"] = _pids(dirs["pids"])
    if "blkio" in dirs:
        out["blkio_stats"] = _v1_blkio(dirs["blkio"])
    return out


def _v1_cpu(acct: str | None, cpu: str | None) -> dict[str, Any]:
    usage: dict[str, Any] = {"total_usage": 0, "percpu_usage": [], "usage_in_kernelmode": 0,
                             "usage_in_usermode": 0}
    if acct:
        usage["total_usage"] = fsutil.read_int(os.path.join(acct, "cpuacct.usage")) or 0
        percpu = fsutil.read_or(os.path.join(acct, "cpuacct.usage_percpu")).split()
        usage["percpu_usage"] = [int(v) for v in percpu if v.isdigit()]
        user = fsutil.read_int(os.path.join(acct, "cpuacct.usage_user"))
        system = fsutil.read_int(os.path.join(acct, "cpuacct.usage_sys"))
        if user is None or system is None:
            ticks = fsutil.read_keyed(os.path.join(acct, "cpuacct.stat"))
            per_tick = 1_000_000_000 // (os.sysconf("SC_CLK_TCK") or 100)
            user, system = ticks.get("user", 0) * per_tick, ticks.get("system", 0) * per_tick
        usage["usage_in_usermode"], usage["usage_in_kernelmode"] = user, system
    stat = fsutil.read_keyed(os.path.join(cpu, "cpu.stat")) if cpu else {}
    return {
        "cpu_usage": usage,
        "throttling_data": {
            "periods": stat.get("nr_periods", 0),
            "throttled_periods": stat.get("nr_throttled", 0),
            "throttled_time": stat.get("throttled_time", 0),
        },
    }


def _v1_memory(path: str) -> dict[str, Any]:
    return {
        "usage": fsutil.read_int(os.path.join(path, "memory.usage_in_bytes")) or 0,
        "max_usage": fsutil.read_int(os.path.join(path, "memory.max_usage_in_bytes")),
        "limit": _limit(fsutil.read_int(os.path.join(path, "memory.limit_in_bytes"))),
        "failcnt": fsutil.read_int(os.path.join(path, "memory.failcnt")),
        "stats": fsutil.read_keyed(os.path.join(path, "memory.stat")),
    }


def _pids(path: str) -> dict[str, Any]:
    return {
        "current": fsutil.read_int(os.path.join(path, "pids.current")) or 0,
        "limit": fsutil.read_int(os.path.join(path, "pids.max")),
    }


def _v1_blkio_file(path: str, base: str) -> list[dict[str, Any]]:
    for prefix in ("blkio.", "blkio.bfq.", "blkio.throttle."):
        name = os.path.join(path, prefix + base)
        if fsutil.exists(name):
            break
    else:
        return []
    entries = []
    for line in fsutil.read_or(name).splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue
        major, minor = parts[0].split(":", 1)
        entries.append({"major": int(major), "minor": int(minor), "op": parts[1], "value": int(parts[2])})
    return entries


def _v1_blkio(path: str) -> dict[str, Any]:
    return {
        "io_service_bytes_recursive": _v1_blkio_file(path, "io_service_bytes_recursive"),
        "io_serviced_recursive": _v1_blkio_file(path, "io_serviced_recursive"),
    }


def v2_stats(path: str, controllers: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cpu = fsutil.read_keyed(os.path.join(path, "cpu.stat"))
    if cpu:
        out["cpu_stats"] = {
            "cpu_usage": {
                "total_usage": cpu.get("usage_usec", 0) * 1000,
                "percpu_usage": [],
                "usage_in_kernelmode": cpu.get("system_usec", 0) * 1000,
                "usage_in_usermode": cpu.get("user_usec", 0) * 1000,
            },
            "throttling_data": {
                "periods": cpu.get("nr_periods", 0),
                "throttled_periods": cpu.get("nr_throttled", 0),
                "throttled_time": cpu.get("throttled_usec", 0) * 1000,
            },
        }
    if "memory" in controllers:
        events = fsutil.read_keyed(os.path.join(path, "memory.events"))
        out["memory_stats"] = {
            "usage": fsutil.read_int(os.path.join(path, "memory.current")) or 0,
            "max_usage": fsutil.read_int(os.path.join(path, "memory.peak")),
            "limit": fsutil.read_int(os.path.join(path, "memory.max")),
            "failcnt": events.get("max"),
            "stats": fsutil.read_keyed(os.path.join(path, "memory.stat")),
        }
    if "pids" in controllers:
        out["pids_stats"] = _pids(path)
    if "io" in controllers:
        out["blkio_stats"] = _v2_io(path)
    return out


def _v2_io(path: str) -> dict[str, Any]:
    nbytes: list[dict[str, Any]] = []
    nios: list[dict[str, Any]] = []
    for line in fsutil.read_or(os.path.join(path, "io.stat")).splitlines():
        parts = line.split()
        if not parts or ":" not in parts[0]:
            continue
        major, minor = (int(v) for v in parts[0].split(":", 1))
        fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        for key, target, op in (("rbytes", nbytes, "read"), ("wbytes", nbytes, "write"),
                                ("rios", nios, "read"), ("wios", nios, "write")):
            if key in fields:
                target.append({"major": major, "minor": minor, "op": op, "value": int(fields[key])})
    return {"io_service_bytes_recursive": nbytes, "io_serviced_recursive": nios}
