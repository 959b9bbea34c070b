"""Checks dockerd makes on a container's HostConfig (and Config) before anything is created.

Each message is Docker's, because clients and people match on them; all are InvalidArgument
(dockerd's InvalidParameter, HTTP 400), except features sampan lacks (NotImplementedFeature).
"""

from __future__ import annotations

import os
from typing import Any

from sampan.errdefs import InvalidArgument

from .defaults import MIN_MEMORY
from .spec_mounts import user_mounts
from .spec_resources import check_sysctls, custom_devices, rlimits
from .spec_seccomp import BUILTIN, UNCONFINED, load_profile, resolve
from .spec_security import normalize_capabilities, parse_security_opts

RESTART_POLICIES = ("", "no", "always", "unless-stopped", "on-failure")
IPC_MODES = ("", "none", "private", "shareable", "host")


def _int(hc: dict[str, Any], key: str) -> int:
    value = hc.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"invalid value for {key}: {value!r}: want an integer")
    return value


def _check_mode(kind: str, mode: str, plain: tuple[str, ...]) -> None:
    if mode in plain:
        return
    if mode.startswith("container:") and mode[len("container:"):]:
        return
    raise InvalidArgument(f"invalid {kind} mode: {mode}")


def _check_restart(hc: dict[str, Any]) -> None:
    policy = hc.get("RestartPolicy") or {}
    name = policy.get("Name") or ""
    retries = int(policy.get("MaximumRetryCount") or 0)
    if name not in RESTART_POLICIES:
        raise InvalidArgument(f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                              "'on-failure', or 'unless-stopped'")
    if retries < 0:
        raise InvalidArgument("invalid restart policy: maximum retry count can not be negative")
    if retries and name != "on-failure":
        raise InvalidArgument("invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if hc.get("AutoRemove") and name not in ("", "no"):
        raise InvalidArgument("can't create 'AutoRemove' container with restart policy")


def _check_memory(hc: dict[str, Any]) -> None:
    memory, swap, reservation = _int(hc, "Memory"), _int(hc, "MemorySwap"), _int(hc, "MemoryReservation")
    if memory != 0 and memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if memory > 0 and swap > 0 and swap < memory:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    if memory == 0 and swap > 0:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    swappiness = hc.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not 0 <= int(swappiness) <= 100:
        raise InvalidArgument(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise InvalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage")
    if reservation > 0 and reservation < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")


def _check_cpu(hc: dict[str, Any]) -> None:
    nano, period, quota = _int(hc, "NanoCpus"), _int(hc, "CpuPeriod"), _int(hc, "CpuQuota")
    if nano > 0 and period > 0:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano > 0 and quota > 0:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    ncpu = os.cpu_count() or 1
    if nano < 0 or nano > ncpu * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available")
    if period != 0 and not 1000 <= period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if 0 < quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    for key, what in (("CpusetCpus", "cpus"), ("CpusetMems", "mems")):
        value = hc.get(key) or ""
        if value and not _valid_cpuset(value):
            raise InvalidArgument(f"Invalid value {value} for cpuset {what}")


def _valid_cpuset(text: str) -> bool:
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and (not hi.isdigit() or int(hi) < int(lo))):
            return False
    return True


def _check_network_conflicts(hc: dict[str, Any], network: str) -> None:
    """runconfig's network-mode conflicts (joined or host network namespaces own these settings)."""
    if network.startswith("container:"):
        if hc.get("Links"):
            raise InvalidArgument("conflicting options: container type network can't be used with links. "
                                  "This would result in undefined behavior")
        if hc.get("Dns"):
            raise InvalidArgument("conflicting options: dns and the network mode")
        if hc.get("ExtraHosts"):
            raise InvalidArgument("conflicting options: custom host-to-IP mapping and the network mode")
        if hc.get("PortBindings") or hc.get("PublishAllPorts"):
            raise InvalidArgument("conflicting options: port publishing and the container type network mode")
    if network == "host" and hc.get("Links"):
        raise InvalidArgument("conflicting options: host type networking can't be used with links. "
                              "This would result in undefined behavior")


def validate_host_config(host_config: dict[str, Any]) -> None:
    """Raise InvalidArgument with dockerd's wording for a HostConfig it would refuse."""
    hc = host_config or {}
    if not isinstance(hc, dict):
        raise InvalidArgument("invalid HostConfig: want an object")
    _check_restart(hc)
    _check_memory(hc)
    _check_cpu(hc)
    _check_mode("PID", hc.get("PidMode") or "", ("", "host"))
    _check_mode("IPC", hc.get("IpcMode") or "", IPC_MODES)
    _check_mode("UTS", hc.get("UTSMode") or "", ("", "host"))
    if (hc.get("CgroupnsMode") or "") not in ("", "private", "host"):
        raise InvalidArgument(f"invalid cgroup namespace mode: {hc['CgroupnsMode']}")
    network = hc.get("NetworkMode") or ""
    if network == "container:":
        raise InvalidArgument(f"invalid network mode: {network}")
    _check_network_conflicts(hc, network)
    isolation = hc.get("Isolation") or ""
    if isolation not in ("", "default"):
        raise InvalidArgument(f"invalid isolation: \"{isolation}\" - linux only supports 'default'")
    oom = _int(hc, "OomScoreAdj")
    if not -1000 <= oom <= 1000:
        raise InvalidArgument(f"Invalid value {oom}, range for oom score adj is [-1000, 1000]")
    if _int(hc, "ShmSize") < 0:
        raise InvalidArgument("SHM size can not be less than 0")
    weight = _int(hc, "BlkioWeight")
    if weight > 0 and not 10 <= weight <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    normalize_capabilities(list(hc.get("CapAdd") or []))
    normalize_capabilities(list(hc.get("CapDrop") or []))
    security = parse_security_opts(list(hc.get("SecurityOpt") or []))
    if security.seccomp not in ("", UNCONFINED, BUILTIN):
        from sampan.runtime.seccomp.profile import validate

        validate(resolve(load_profile(security.seccomp), []))  # a bad profile fails create, not start
    rlimits(hc)
    check_sysctls(dict(hc.get("Sysctls") or {}), network, hc.get("IpcMode") or "")
    user_mounts(hc)
    custom_devices(hc)


def check_working_dir(config: dict[str, Any]) -> None:
    workdir = config.get("WorkingDir") or ""
    if workdir and not workdir.startswith("/"):
        raise InvalidArgument(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")


def validate_config(config: dict[str, Any], host_config: dict[str, Any]) -> None:
    """The Config checks dockerd makes at create, on the Config as posted (working dir, hostname vs
    namespace modes); generate_spec does not repeat the hostname checks, the stored Config has one."""
    check_working_dir(config)
    hostname = config.get("Hostname") or ""
    if hostname and (host_config.get("UTSMode") or "") == "host":
        raise InvalidArgument("conflicting options: hostname and the UTS mode")
    if (host_config.get("NetworkMode") or "").startswith("container:"):
        if hostname:
            raise InvalidArgument("conflicting options: hostname and the network mode")
        if config.get("MacAddress"):
            raise InvalidArgument("conflicting options: mac-address and the network mode")
