"""`events`: container stats in runc's event shape, once (--stats) or every --interval."""

from __future__ import annotations

import json
import sys
import time

from sampan.errdefs import Conflict, InvalidArgument
from sampan.runtime.state import Container

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any


def runc_stats(docker: dict[str, Any]) -> dict[str, Any]:
    """The cgroup manager's Docker-shaped stats -> the `data` of runc's stats event."""
    out: dict[str, Any] = {}
    cpu = (docker.get("cpu_stats") or {}).get("cpu_usage")
    if cpu is not None:
        out["cpu"] = {"usage": {"total": cpu.get("total_usage", 0), "percpu": cpu.get("percpu_usage") or [],
                                "kernel": cpu.get("usage_in_kernelmode", 0),
                                "user": cpu.get("usage_in_usermode", 0)},
                      "throttling": _throttling((docker.get("cpu_stats") or {}).get("throttling_data") or {})}
    mem = docker.get("memory_stats")
    if mem is not None:
        out["memory"] = {"usage": {"limit": mem.get("limit") or 0, "usage": mem.get("usage") or 0,
                                   "max": mem.get("max_usage") or 0, "failcnt": mem.get("failcnt") or 0},
                         "raw": mem.get("stats") or {}}
    pids = docker.get("pids_stats")
    if pids is not None:
        out["pids"] = {"current": pids.get("current") or 0, "limit": pids.get("limit") or 0}
    blkio = docker.get("blkio_stats")
    if blkio is not None:
        out["blkio"] = {"ioServiceBytesRecursive": blkio.get("io_service_bytes_recursive") or [],
                        "ioServicedRecursive": blkio.get("io_serviced_recursive") or []}
    return out


def _throttling(t: dict[str, Any]) -> dict[str, Any]:
    names = {"periods": "periods", "throttled_periods": "throttledPeriods", "throttled_time": "throttledTime"}
    return {names[k]: v for k, v in t.items() if k in names and v}


def parse_interval(text: str) -> float:
    """Go durations as runc takes them: 5s, 500ms, 1m."""
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * scale
    raise InvalidArgument(f"invalid interval {text!r}")


def events(c: Container, stats_once: bool, interval: float) -> None:
    import gc

    from sampan.runtime.cgroups import new_manager

    gc.enable()  # runs for long: cli.main turned collection off for short commands

    mgr = new_manager(c.state.cgroups_path, c.id)
    while True:
        if c.status() in ("stopped", "creating"):
            raise Conflict("container not running")
        event = {"type": "stats", "id": c.id, "data": runc_stats(mgr.stats())}
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        if stats_once:
            return
        time.sleep(interval)
