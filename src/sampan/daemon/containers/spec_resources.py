"""HostConfig resources, devices, ulimits and sysctls -> the OCI `linux.resources` and friends.

Values follow dockerd: only what was set is written (zero means "not set" in the Engine API),
NanoCpus become a CFS quota over a 100 ms period, and a Memory limit without MemorySwap allows
as much swap again (MemorySwap = 2 x Memory) — the service should store that adapted value.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from typing import Any

from sampan.errdefs import InvalidArgument

from .defaults import CPU_PERIOD, NAMESPACED_SYSCTL_PREFIXES, NAMESPACED_SYSCTLS, default_device_rules

log = logging.getLogger(__name__)

ULIMITS = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
           "rss", "rtprio", "rttime", "sigpending", "stack")
_RULE = re.compile(r"^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$")
_SKIP_DEV_DIRS = ("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev")


def memory_swap(host_config: dict[str, Any]) -> int:
    """MemorySwap as dockerd adapts it at create: twice Memory when only Memory is set."""
    memory = int(host_config.get("Memory") or 0)
    swap = int(host_config.get("MemorySwap") or 0)
    if memory > 0 and swap == 0:
        return memory * 2
    return swap


def resources(host_config: dict[str, Any], *, blkio_weight_supported: bool | None = None) -> dict[str, Any]:
    """`linux.resources` without devices (see device_rules)."""
    hc = host_config
    out: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    if int(hc.get("Memory") or 0) > 0:
        memory["limit"] = int(hc["Memory"])
    if int(hc.get("MemoryReservation") or 0) > 0:
        memory["reservation"] = int(hc["MemoryReservation"])
    swap = memory_swap(hc)
    if swap > 0:  # -1 (unlimited) is left to the runtime's default, as dockerd writes it
        memory["swap"] = swap
    swappiness = hc.get("MemorySwappiness")
    if swappiness is not None and int(swappiness) != -1:
        memory["swappiness"] = int(swappiness)
    if hc.get("OomKillDisable") is not None:
        memory["disableOOMKiller"] = bool(hc["OomKillDisable"])
    if memory:
        out["memory"] = memory
    cpu: dict[str, Any] = {}
    shares = int(hc.get("CpuShares") or 0)
    if shares != 0:
        cpu["shares"] = min(max(shares, 2), 262144)
    nano = int(hc.get("NanoCpus") or 0)
    if nano > 0:
        cpu["quota"] = nano * CPU_PERIOD // 1_000_000_000
        cpu["period"] = CPU_PERIOD
    if int(hc.get("CpuQuota") or 0) != 0:
        cpu["quota"] = int(hc["CpuQuota"])
    if int(hc.get("CpuPeriod") or 0) != 0:
        cpu["period"] = int(hc["CpuPeriod"])
    if hc.get("CpusetCpus"):
        cpu["cpus"] = hc["CpusetCpus"]
    if hc.get("CpusetMems"):
        cpu["mems"] = hc["CpusetMems"]
    if cpu:
        out["cpu"] = cpu
    pids = hc.get("PidsLimit")
    if pids is not None and int(pids) > 0:
        out["pids"] = {"limit": int(pids)}
    weight = int(hc.get("BlkioWeight") or 0)
    if weight > 0:
        supported = _blkio_weight_supported() if blkio_weight_supported is None else blkio_weight_supported
        if supported:
            out["blockIO"] = {"weight": weight}
        else:
            log.warning("this kernel does not support Block I/O weight or the cgroup is not mounted: weight discarded")
    return out


def _blkio_weight_supported() -> bool:
    return any(os.path.exists(p) for p in ("/sys/fs/cgroup/blkio/blkio.weight", "/sys/fs/cgroup/blkio/blkio.bfq.weight",
                                           "/sys/fs/cgroup/io.weight", "/sys/fs/cgroup/io.bfq.weight"))


def rlimits(host_config: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for u in host_config.get("Ulimits") or []:
        name = str(u.get("Name") or "")
        if name not in ULIMITS:
            raise InvalidArgument(f"invalid ulimit type: {name}")
        soft, hard = int(u.get("Soft") or 0), int(u.get("Hard") or 0)
        if soft > hard:
            raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
        out.append({"type": "RLIMIT_" + name.upper(), "hard": hard, "soft": soft})
    return out


def check_sysctls(sysctls: dict[str, str], network_mode: str, ipc_mode: str) -> None:
    """Only sysctls the kernel namespaces, and only when the container has that namespace."""
    for key in sysctls:
        if key.startswith("net."):
            if network_mode == "host":
                raise InvalidArgument(f'sysctl "{key}" not allowed in host network namespace')
        elif key in NAMESPACED_SYSCTLS or key.startswith(NAMESPACED_SYSCTL_PREFIXES):
            if ipc_mode == "host":
                raise InvalidArgument(f'sysctl "{key}" not allowed in host IPC namespace')
        else:
            raise InvalidArgument(f"sysctl '{key}' is not whitelisted")


def sysctls(host_config: dict[str, Any], network_mode: str) -> dict[str, str]:
    """The container's sysctls plus dockerd's two network defaults for a private network namespace."""
    out: dict[str, str] = {}
    if network_mode != "host" and not network_mode.startswith("container:"):
        out["net.ipv4.ip_unprivileged_port_start"] = "0"
        out["net.ipv4.ping_group_range"] = "0 2147483647"
    out.update({str(k): str(v) for k, v in (host_config.get("Sysctls") or {}).items()})
    return out


def _device_entry(path_in_container: str, st: os.stat_result) -> dict[str, Any]:
    kind = "c" if stat.S_ISCHR(st.st_mode) else "b"
    return {"path": path_in_container, "type": kind, "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
            "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}


def devices_from_path(on_host: str, in_container: str, permissions: str) -> list[dict[str, Any]]:
    """Device nodes for one HostConfig.Devices entry (a node, or a directory of nodes)."""
    resolved = os.path.realpath(on_host) if os.path.islink(on_host) else on_host
    try:
        st = os.stat(resolved)
    except OSError as e:
        raise InvalidArgument(f'error gathering device information while adding custom device "{on_host}": '
                              f"{(e.strerror or str(e)).lower()}")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return [_device_entry(in_container, st)]
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidArgument(f'error gathering device information while adding custom device "{on_host}": '
                              "not a device node")
    out = []
    for dirpath, dirnames, filenames in os.walk(resolved):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                fst = os.stat(full)
            except OSError:
                continue
            if stat.S_ISCHR(fst.st_mode) or stat.S_ISBLK(fst.st_mode):
                out.append(_device_entry(in_container + full[len(resolved):], fst))
    return out


def custom_devices(host_config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(linux.devices, their cgroup rules) for HostConfig.Devices and DeviceCgroupRules."""
    nodes, rules = [], []
    for d in host_config.get("Devices") or []:
        on_host = d.get("PathOnHost") or ""
        in_container = d.get("PathInContainer") or on_host
        perms = d.get("CgroupPermissions") or "rwm"
        if not perms or any(c not in "rwm" for c in perms):
            raise InvalidArgument(f"invalid device mode: {perms}")
        for node in devices_from_path(on_host, in_container, perms):
            nodes.append(node)
            rules.append({"allow": True, "type": node["type"], "major": node["major"], "minor": node["minor"],
                          "access": perms})
    for text in host_config.get("DeviceCgroupRules") or []:
        m = _RULE.match(text)
        if m is None:
            raise InvalidArgument(f"invalid device cgroup rule format: '{text}'")
        rule: dict[str, Any] = {"allow": True, "type": m.group(1), "access": m.group(4)}
        if m.group(2) != "*":
            rule["major"] = int(m.group(2))
        if m.group(3) != "*":
            rule["minor"] = int(m.group(3))
        rules.append(rule)
    return nodes, rules


def host_devices(root: str = "/dev") -> list[dict[str, Any]]:
    """Every device node on the host (a privileged container gets them all), like runc's list."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DEV_DIRS]
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if full == os.path.join(root, "console"):
                continue
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                out.append(_device_entry(full, st))
    return out


def device_config(host_config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(linux.devices, linux.resources.devices) for the container."""
    if host_config.get("Privileged"):
        return host_devices(), [{"allow": True, "access": "rwm"}]
    nodes, rules = custom_devices(host_config)
    return nodes, default_device_rules() + rules
