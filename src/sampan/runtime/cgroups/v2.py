"""Writers of OCI resources into a cgroup v2 directory, with runc's conversions from v1 units."""

from __future__ import annotations

import os

from sampan import errdefs

from . import fsutil
from .v1 import pids_value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from typing import Any

_IO_MAX_KEYS = {
    "throttleReadBpsDevice": "rbps",
    "throttleWriteBpsDevice": "wbps",
    "throttleReadIOPSDevice": "riops",
    "throttleWriteIOPSDevice": "wiops",
}


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144) to cpu.weight (1..10000), the mapping runc and crun use."""
    if shares == 0:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000) to io.weight (1..10000)."""
    if weight == 0:
        return 0
    return 1 + (weight - 10) * 9999 // 990


def swap_max(swap: int, limit: int) -> int | None:
    """memory.swap.max from the OCI memory+swap total; None leaves it alone, -1 is "max"."""
    if limit == -1 and swap == 0:
        return -1
    if swap in (-1, 0):
        return swap if swap == -1 else None
    if limit in (0, -1):
        raise errdefs.InvalidArgument("cannot set a swap limit without a memory limit")
    if swap < limit:
        raise errdefs.InvalidArgument(f"memory+swap limit {swap} should be >= memory limit {limit}")
    return swap - limit


def _max(value: int) -> str:
    return "max" if value == -1 else str(value)


def set_memory(path: str, mem: dict[str, Any]) -> None:
    limit, swap = mem.get("limit") or 0, mem.get("swap") or 0
    swap_value = swap_max(swap, limit)
    swap_file = os.path.join(path, "memory.swap.max")
    if swap_value is not None:
        if fsutil.exists(swap_file):
            fsutil.write(swap_file, _max(swap_value))
        elif swap_value != -1:
            raise errdefs.InvalidArgument(f"cannot set memory.swap {swap}: {swap_file} is missing")
    if limit:
        fsutil.write(os.path.join(path, "memory.max"), _max(limit))
    if mem.get("reservation"):
        fsutil.write(os.path.join(path, "memory.low"), _max(mem["reservation"]))
    for key in ("kernel", "kernelTCP", "swappiness", "disableOOMKiller"):
        if mem.get(key):
            fsutil.debug(__name__, "memory.%s has no cgroup v2 equivalent and is ignored", key)


def set_cpu(path: str, cpu: dict[str, Any]) -> None:
    if cpu.get("realtimeRuntime") or cpu.get("realtimePeriod"):
        raise errdefs.InvalidArgument("realtime CPU scheduling (cpu.realtime*) is not supported by cgroup v2")
    if cpu.get("shares"):
        fsutil.write(os.path.join(path, "cpu.weight"), shares_to_weight(cpu["shares"]))
    quota, period = cpu.get("quota") or 0, cpu.get("period") or 0
    if quota or period:
        text = str(quota) if quota > 0 else "max"
        if period:
            text += f" {period}"
        fsutil.write(os.path.join(path, "cpu.max"), text)
    if cpu.get("burst") is not None:
        fsutil.write(os.path.join(path, "cpu.max.burst"), cpu["burst"])
    if cpu.get("idle") is not None:
        fsutil.write(os.path.join(path, "cpu.idle"), cpu["idle"])


def set_pids(path: str, pids: dict[str, Any]) -> None:
    if pids.get("limit") is not None:
        fsutil.write(os.path.join(path, "pids.max"), pids_value(pids["limit"]))


def set_io(path: str, bio: dict[str, Any]) -> None:
    bfq = os.path.join(path, "io.bfq.weight")
    use_bfq = fsutil.exists(bfq)
    if bio.get("weight"):
        if use_bfq:
            fsutil.write(bfq, bio["weight"])
        else:
            fsutil.write(os.path.join(path, "io.weight"), f"default {blkio_to_io_weight(bio['weight'])}")
    if bio.get("leafWeight"):
        fsutil.debug(__name__, "blockIO.leafWeight has no cgroup v2 equivalent and is ignored")
    for dev in bio.get("weightDevice") or []:
        if dev.get("weight"):
            pair = f"{dev['major']}:{dev['minor']}"
            if use_bfq:
                fsutil.write(bfq, f"{pair} {dev['weight']}")
            else:
                fsutil.write(os.path.join(path, "io.weight"), f"{pair} {blkio_to_io_weight(dev['weight'])}")
    for key, field in _IO_MAX_KEYS.items():
        for dev in bio.get(key) or []:
            rate = dev["rate"] or "max"
            fsutil.write(os.path.join(path, "io.max"), f"{dev['major']}:{dev['minor']} {field}={rate}")


def set_unified(path: str, unified: dict[str, str]) -> None:
    for key, value in unified.items():
        name = os.path.join(path, key)
        if not fsutil.exists(name):
            raise errdefs.InvalidArgument(
                f"cannot set unified resource {key!r}: {name} does not exist (controller not enabled?)"
            )
        fsutil.write(name, value)
