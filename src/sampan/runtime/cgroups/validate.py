"""Type and range checks of an OCI `linux.resources` object, before anything is created."""

from __future__ import annotations

from sampan import errdefs

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_PAGE_UNITS = ("KB", "MB", "GB", "TB", "PB", "B")


def is_cpu_list(text: str) -> bool:
    """"0-3, 5": comma-separated numbers or ranges (str methods: `re` costs start-up time)."""
    for item in text.split(","):
        first, dash, last = item.strip().partition("-")
        if not first.isdecimal() or (dash and not last.isdecimal()):
            return False
    return True


def is_page_size(text: str) -> bool:
    """"2MB": a number and one of B, KB, MB, GB, TB, PB."""
    return any(text.endswith(unit) and text[: -len(unit)].isdecimal() for unit in _PAGE_UNITS)


def _bad(where: str, why: str) -> errdefs.InvalidArgument:
    return errdefs.InvalidArgument(f"invalid linux.resources.{where}: {why}")


def _int(obj: dict[str, Any], key: str, where: str, *, lo: int | None = None, hi: int | None = None) -> None:
    if key not in obj or obj[key] is None:
        return
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{where}.{key}", f"want an integer, got {value!r}")
    if lo is not None and value < lo:
        raise _bad(f"{where}.{key}", f"{value} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise _bad(f"{where}.{key}", f"{value} is above the maximum {hi}")


def _bool(obj: dict[str, Any], key: str, where: str) -> None:
    if key in obj and obj[key] is not None and not isinstance(obj[key], bool):
        raise _bad(f"{where}.{key}", f"want a boolean, got {obj[key]!r}")


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, f"want an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(where, f"want an array, got {type(value).__name__}")
    return value


U64 = 2**64 - 1
I64 = 2**63 - 1


def validate_resources(resources: dict[str, Any]) -> None:
    """Raise InvalidArgument for wrong types or values; unknown sections are left for the future."""
    res = _dict(resources, "resources")
    for section, check in _CHECKS.items():
        if res.get(section) is not None:
            check(res[section])


def _check_memory(value: Any) -> None:
    mem = _dict(value, "memory")
    for key in ("limit", "reservation", "swap", "kernel", "kernelTCP"):
        _int(mem, key, "memory", lo=-1, hi=I64)
    _int(mem, "swappiness", "memory", lo=0)
    swappiness = mem.get("swappiness")
    if isinstance(swappiness, int) and swappiness > 100:
        raise _bad("memory.swappiness", f"{swappiness} is out of the valid range 0-100")
    for key in ("disableOOMKiller", "useHierarchy", "checkBeforeUpdate"):
        _bool(mem, key, "memory")
    limit, swap = mem.get("limit") or 0, mem.get("swap") or 0
    if limit > 0 and swap > 0 and swap < limit:
        raise _bad("memory.swap", f"memory+swap limit {swap} should be >= memory limit {limit}")


def _check_cpu(value: Any) -> None:
    cpu = _dict(value, "cpu")
    for key in ("shares", "period", "realtimePeriod", "burst"):
        _int(cpu, key, "cpu", lo=0, hi=U64)
    for key in ("quota", "realtimeRuntime"):
        _int(cpu, key, "cpu", lo=-1, hi=I64)
    _int(cpu, "idle", "cpu", lo=0, hi=1)
    for key in ("cpus", "mems"):
        text = cpu.get(key)
        if text is None or text == "":
            continue
        if not isinstance(text, str) or not is_cpu_list(text):
            raise _bad(f"cpu.{key}", f"{text!r} is not a list like 0-3,5")


def _check_pids(value: Any) -> None:
    pids = _dict(value, "pids")
    _int(pids, "limit", "pids", hi=I64)


def _check_blockIO(value: Any) -> None:
    bio = _dict(value, "blockIO")
    for key in ("weight", "leafWeight"):
        _int(bio, key, "blockIO", lo=0, hi=1000)
        if bio.get(key) and not 10 <= bio[key] <= 1000:
            raise _bad(f"blockIO.{key}", f"{bio[key]} is out of the valid range 10-1000")
    for i, dev in enumerate(_list(bio.get("weightDevice") or [], "blockIO.weightDevice")):
        _device_pair(dev, f"blockIO.weightDevice[{i}]")
        _int(dev, "weight", "blockIO.weightDevice", lo=0, hi=1000)
        _int(dev, "leafWeight", "blockIO.weightDevice", lo=0, hi=1000)
    for key in ("throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                "throttleWriteIOPSDevice"):
        for i, dev in enumerate(_list(bio.get(key) or [], f"blockIO.{key}")):
            _device_pair(dev, f"blockIO.{key}[{i}]")
            if "rate" not in dev:
                raise _bad(f"blockIO.{key}[{i}].rate", "missing")
            _int(dev, "rate", f"blockIO.{key}[{i}]", lo=0, hi=U64)


def _device_pair(dev: Any, where: str) -> None:
    _dict(dev, where)
    for key in ("major", "minor"):
        if key not in dev:
            raise _bad(f"{where}.{key}", "missing")
        _int(dev, key, where, lo=0)


def _check_hugepageLimits(value: Any) -> None:
    for i, item in enumerate(_list(value, "hugepageLimits")):
        where = f"hugepageLimits[{i}]"
        _dict(item, where)
        size = item.get("pageSize")
        if not isinstance(size, str) or not is_page_size(size):
            raise _bad(f"{where}.pageSize", f"{size!r} is not a page size like 2MB")
        _int(item, "limit", where, lo=0, hi=U64)


def _check_devices(value: Any) -> None:
    for i, rule in enumerate(_list(value, "devices")):
        where = f"devices[{i}]"
        _dict(rule, where)
        if not isinstance(rule.get("allow"), bool):
            raise _bad(f"{where}.allow", "a boolean is required")
        kind = rule.get("type", "a")
        if kind not in ("a", "b", "c", None):
            raise _bad(f"{where}.type", f"{kind!r} is not one of a, b, c")
        for key in ("major", "minor"):
            _int(rule, key, where, lo=-1)
        access = rule.get("access") or ""
        if not isinstance(access, str) or set(access) - set("rwm"):
            raise _bad(f"{where}.access", f"{access!r} is not a combination of r, w, m")


def _check_network(value: Any) -> None:
    net = _dict(value, "network")
    _int(net, "classID", "network", lo=0, hi=2**32 - 1)
    for i, prio in enumerate(_list(net.get("priorities") or [], "network.priorities")):
        _dict(prio, f"network.priorities[{i}]")
        if not isinstance(prio.get("name"), str):
            raise _bad(f"network.priorities[{i}].name", "an interface name is required")
        _int(prio, "priority", f"network.priorities[{i}]", lo=0, hi=2**32 - 1)


def _check_rdma(value: Any) -> None:
    for name, limits in _dict(value, "rdma").items():
        lim = _dict(limits, f"rdma.{name}")
        _int(lim, "hcaHandles", f"rdma.{name}", lo=0, hi=2**32 - 1)
        _int(lim, "hcaObjects", f"rdma.{name}", lo=0, hi=2**32 - 1)


def _check_unified(value: Any) -> None:
    for key, val in _dict(value, "unified").items():
        if not key or "/" in key or key.startswith(".") or "." not in key:
            raise _bad(f"unified[{key!r}]", "not a cgroup v2 control file name")
        if key in ("cgroup.procs", "cgroup.threads", "cgroup.kill", "cgroup.freeze"):
            raise _bad(f"unified[{key!r}]", "this cgroup core file cannot be set as a resource")
        if not isinstance(val, str):
            raise _bad(f"unified[{key!r}]", f"want a string value, got {val!r}")


_CHECKS: dict[str, Callable[[Any], None]] = {
    "devices": _check_devices,
    "memory": _check_memory,
    "cpu": _check_cpu,
    "pids": _check_pids,
    "blockIO": _check_blockIO,
    "hugepageLimits": _check_hugepageLimits,
    "network": _check_network,
    "rdma": _check_rdma,
    "unified": _check_unified,
}
