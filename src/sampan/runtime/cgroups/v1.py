"""Writers of OCI resources into cgroup v1 controller directories (one function per controller)."""

from __future__ import annotations

import errno
import os
import time

from sampan import errdefs

from . import fsutil
from .devices import v1_rules

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from typing import Any


def _set(value: Any) -> bool:
    return value is not None


def set_memory(path: str, mem: dict[str, Any]) -> None:
    limit = mem.get("limit") or 0
    swap = mem.get("swap") or 0
    if limit == -1 and swap == 0:
        swap = -1  # unlimited memory asks for unlimited swap too, as runc does
    memsw = os.path.join(path, "memory.memsw.limit_in_bytes")
    if swap and not fsutil.exists(memsw):
        if swap != -1:
            raise errdefs.InvalidArgument(
                f"cannot set memory.swap {swap}: swap accounting is not enabled ({memsw} is missing)"
            )
        swap = 0
    if limit and swap:
        current = fsutil.read_int(os.path.join(path, "memory.limit_in_bytes")) or 0
        # memsw must stay >= limit at every moment: raise the one that grows first.
        if swap == -1 or current < swap:
            fsutil.write(memsw, swap)
            fsutil.write(os.path.join(path, "memory.limit_in_bytes"), limit)
        else:
            fsutil.write(os.path.join(path, "memory.limit_in_bytes"), limit)
            fsutil.write(memsw, swap)
    elif limit:
        fsutil.write(os.path.join(path, "memory.limit_in_bytes"), limit)
    elif swap:
        fsutil.write(memsw, swap)
    if mem.get("reservation"):
        fsutil.write(os.path.join(path, "memory.soft_limit_in_bytes"), mem["reservation"])
    if mem.get("kernel"):
        fsutil.debug(__name__, "memory.kernel is deprecated by the kernel and ignored")
    if mem.get("kernelTCP"):
        tcp = os.path.join(path, "memory.kmem.tcp.limit_in_bytes")
        if fsutil.exists(tcp):
            fsutil.write(tcp, mem["kernelTCP"])
        else:
            fsutil.debug(__name__, "memory.kernelTCP ignored: %s is missing", tcp)
    if _set(mem.get("swappiness")):
        fsutil.write(os.path.join(path, "memory.swappiness"), mem["swappiness"])
    if mem.get("disableOOMKiller"):
        fsutil.write(os.path.join(path, "memory.oom_control"), 1)
    if mem.get("useHierarchy"):
        fsutil.write(os.path.join(path, "memory.use_hierarchy"), 1)


def set_cpu(path: str, cpu: dict[str, Any]) -> None:
    shares = cpu.get("shares") or 0
    if shares:
        fsutil.write(os.path.join(path, "cpu.shares"), shares)
        got = fsutil.read_int(os.path.join(path, "cpu.shares"))
        if got is not None and got != shares:
            bound = "maximum" if shares > got else "minimum"
            raise errdefs.InvalidArgument(f"the {bound} allowed cpu-shares is {got}")
    period, quota = cpu.get("period") or 0, cpu.get("quota") or 0
    period_file = os.path.join(path, "cpu.cfs_period_us")
    rewrite_period = False
    if period:
        try:
            fsutil.write(period_file, period)
        except errdefs.InvalidArgument:
            # A period below the current quota is refused until the quota is lowered.
            if not quota:
                raise
            rewrite_period = True
    if quota:
        fsutil.write(os.path.join(path, "cpu.cfs_quota_us"), quota)
        if rewrite_period:
            fsutil.write(period_file, period)
    if _set(cpu.get("burst")):
        fsutil.write(os.path.join(path, "cpu.cfs_burst_us"), cpu["burst"])
    if cpu.get("realtimePeriod"):
        fsutil.write(os.path.join(path, "cpu.rt_period_us"), cpu["realtimePeriod"])
    if cpu.get("realtimeRuntime"):
        fsutil.write(os.path.join(path, "cpu.rt_runtime_us"), cpu["realtimeRuntime"])
    if _set(cpu.get("idle")):
        fsutil.write(os.path.join(path, "cpu.idle"), cpu["idle"])


def set_cpuset(path: str, cpu: dict[str, Any]) -> None:
    if cpu.get("cpus"):
        fsutil.write(os.path.join(path, "cpuset.cpus"), cpu["cpus"])
    if cpu.get("mems"):
        fsutil.write(os.path.join(path, "cpuset.mems"), cpu["mems"])


def init_cpuset(mount: str, leaf: str) -> None:
    """A new v1 cpuset has empty cpus/mems and refuses tasks: copy them down from the parents."""
    rel = os.path.relpath(leaf, mount)
    current = mount
    for part in [] if rel == "." else rel.split(os.sep):
        parent, current = current, os.path.join(current, part)
        for name in ("cpuset.cpus", "cpuset.mems"):
            own = os.path.join(current, name)
            if fsutil.exists(own) and not fsutil.read_or(own):
                fsutil.write(own, fsutil.read_or(os.path.join(parent, name)))


def pids_value(limit: int) -> str:
    return str(limit) if limit > 0 else "max"


def set_pids(path: str, pids: dict[str, Any]) -> None:
    if _set(pids.get("limit")):
        fsutil.write(os.path.join(path, "pids.max"), pids_value(pids["limit"]))


def _first_existing(path: str, *names: str) -> str:
    for name in names:
        candidate = os.path.join(path, name)
        if fsutil.exists(candidate):
            return candidate
    raise errdefs.InvalidArgument(
        f"cannot set block IO weight: the kernel offers none of {', '.join(names)} in {path}"
    )


def set_blkio(path: str, bio: dict[str, Any]) -> None:
    if bio.get("weight"):
        fsutil.write(_first_existing(path, "blkio.weight", "blkio.bfq.weight"), bio["weight"])
    if bio.get("leafWeight"):
        fsutil.write(os.path.join(path, "blkio.leaf_weight"), bio["leafWeight"])
    for dev in bio.get("weightDevice") or []:
        pair = f"{dev['major']}:{dev['minor']}"
        if dev.get("weight"):
            target = _first_existing(path, "blkio.weight_device", "blkio.bfq.weight_device")
            fsutil.write(target, f"{pair} {dev['weight']}")
        if dev.get("leafWeight"):
            fsutil.write(os.path.join(path, "blkio.leaf_weight_device"), f"{pair} {dev['leafWeight']}")
    for key, name in THROTTLE_FILES.items():
        for dev in bio.get(key) or []:
            fsutil.write(os.path.join(path, name), f"{dev['major']}:{dev['minor']} {dev['rate']}")


THROTTLE_FILES = {
    "throttleReadBpsDevice": "blkio.throttle.read_bps_device",
    "throttleWriteBpsDevice": "blkio.throttle.write_bps_device",
    "throttleReadIOPSDevice": "blkio.throttle.read_iops_device",
    "throttleWriteIOPSDevice": "blkio.throttle.write_iops_device",
}


def set_hugetlb(path: str, limits: list[dict[str, Any]], suffix: str = "limit_in_bytes") -> None:
    for item in limits:
        name = os.path.join(path, f"hugetlb.{item['pageSize']}.{suffix}")
        if not fsutil.exists(name):
            raise errdefs.InvalidArgument(f"hugepage size {item['pageSize']} is not supported ({name})")
        fsutil.write(name, item["limit"])


def set_devices(path: str, rules: list[dict[str, Any]]) -> None:
    for allow, line in v1_rules(rules):
        fsutil.write(os.path.join(path, "devices.allow" if allow else "devices.deny"), line)


def set_net_cls(path: str, class_id: int) -> None:
    fsutil.write(os.path.join(path, "net_cls.classid"), class_id)


def set_net_prio(path: str, priorities: list[dict[str, Any]]) -> None:
    for prio in priorities:
        fsutil.write(os.path.join(path, "net_prio.ifpriomap"), f"{prio['name']} {prio['priority']}")


def set_rdma(path: str, rdma: dict[str, Any], *, file: str = "rdma.max") -> None:
    for device, lim in rdma.items():
        parts = [device]
        if lim.get("hcaHandles") is not None:
            parts.append(f"hca_handle={lim['hcaHandles']}")
        if lim.get("hcaObjects") is not None:
            parts.append(f"hca_object={lim['hcaObjects']}")
        if len(parts) > 1:
            fsutil.write(os.path.join(path, file), " ".join(parts))


def remove_tree(path: str, attempts: int = 8) -> None:
    """rmdir a cgroup and its children bottom-up; processes leaving make rmdir EBUSY for a moment."""
    delay = 0.01
    for attempt in range(attempts):
        try:
            for dirpath, _dirs, _files in os.walk(path, topdown=False):
                os.rmdir(dirpath)
            return
        except FileNotFoundError:
            if not os.path.exists(path):
                return
        except OSError as exc:
            if exc.errno != errno.EBUSY or attempt == attempts - 1:
                raise errdefs.System(f"failed to remove cgroup {path}: {os.strerror(exc.errno or 0)}") from exc
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
