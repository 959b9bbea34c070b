"""What `/version` and `/info` report: the engine's identity and the host it runs on."""

from __future__ import annotations

import logging
import os
import platform
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sampan import __version__
from sampan.api.versions import MAX_API_VERSION, MIN_API_VERSION
from sampan.daemon.config import DaemonConfig

log = logging.getLogger(__name__)

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64"}
GIT_COMMIT = "unknown"
_DRIVER_NAMES = {"overlay": "overlay2", "native": "vfs"}


def go_arch() -> str:
    machine = platform.machine()
    return _ARCH.get(machine, machine)


def cgroup_version(root: str = "/sys/fs/cgroup") -> str:
    """"2" on a unified hierarchy, otherwise "1" (legacy or hybrid, as Docker reports)."""
    return "2" if os.path.exists(os.path.join(root, "cgroup.controllers")) else "1"


def operating_system(os_release: str = "/etc/os-release") -> tuple[str, str]:
    """PRETTY_NAME and VERSION_ID from os-release (what `docker info` shows)."""
    values: dict[str, str] = {}
    try:
        with open(os_release) as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep:
                    values[key] = value.strip().strip('"')
    except OSError:
        return "Linux", ""
    return values.get("PRETTY_NAME", "Linux"), values.get("VERSION_ID", "")


def mem_total(meminfo: str = "/proc/meminfo") -> int:
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def engine_id(data_root: str) -> str:
    """A stable ID for this engine, made once and kept under the data root (like dockerd's)."""
    path = os.path.join(data_root, "engine-id")
    try:
        with open(path) as f:
            value = f.read().strip()
            if value:
                return value
    except FileNotFoundError:
        pass
    value = str(uuid.uuid4())
    os.makedirs(data_root, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(value + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    return value


ContainerCounts = dict[str, int]  # Containers, ContainersRunning, ContainersPaused, ContainersStopped


class SystemService:
    """Backend of the system routes. The services it reports on are reached through small
    callables the daemon wires in, so this module knows none of them."""

    def __init__(self, config: DaemonConfig, *, image_count: Callable[[], int] = lambda: 0,
                 driver_name: Callable[[], str] | None = None,
                 container_counts: Callable[[], ContainerCounts] | None = None) -> None:
        self.config = config
        self.image_count = image_count
        self._driver_name = driver_name
        self._container_counts = container_counts
        self.id = engine_id(config.data_root)
        self.started = time.time()
        self.build_time = datetime.fromtimestamp(
            os.path.getmtime(__file__), tz=UTC).isoformat(timespec="seconds")

    def version(self) -> dict[str, Any]:
        kernel = platform.release()
        details = {"ApiVersion": MAX_API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                   "GitCommit": GIT_COMMIT, "GoVersion": self._python(), "Os": "linux",
                   "Arch": go_arch(), "KernelVersion": kernel, "Experimental": "false",
                   "BuildTime": self.build_time}
        return {
            "Platform": {"Name": "sampan"},
            "Components": [{"Name": "Engine", "Version": __version__, "Details": details}],
            "Version": __version__,
            "ApiVersion": MAX_API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": GIT_COMMIT,
            "GoVersion": self._python(),
            "Os": "linux",
            "Arch": go_arch(),
            "KernelVersion": kernel,
            "BuildTime": self.build_time,
        }

    @staticmethod
    def _python() -> str:
        return f"python{platform.python_version()}"

    def driver_name(self) -> str:
        if self._driver_name is not None:
            name = self._driver_name()
            if name:
                return name
        driver = self.config.storage_driver
        if driver == "auto":
            driver = "overlay"
        return _DRIVER_NAMES.get(driver, driver)

    def info(self) -> dict[str, Any]:
        c = self.config
        pretty, os_version = operating_system()
        try:
            images = self.image_count()
        except Exception as exc:  # `docker info` must still answer when the image store is unwell
            log.warning("info: counting images failed: %s", exc)
            images = 0
        counts = {"Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0}
        if self._container_counts is not None:
            try:
                counts.update(self._container_counts())
            except Exception as exc:
                log.warning("info: counting containers failed: %s", exc)
        return {
            "ID": self.id,
            **counts,
            "Images": images,
            "Driver": self.driver_name(),
            "DriverStatus": [["Backing Filesystem", _fs_type(c.data_root)]],
            "DockerRootDir": c.data_root,
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"],
                        "Authorization": None, "Log": ["json-file"]},
            "MemoryLimit": True, "SwapLimit": True, "KernelMemoryTCP": False,
            "CpuCfsPeriod": True, "CpuCfsQuota": True, "CPUShares": True, "CPUSet": True,
            "PidsLimit": True, "IPv4Forwarding": _sysctl_on("net/ipv4/ip_forward"),
            "BridgeNfIptables": _sysctl_on("net/bridge/bridge-nf-call-iptables"),
            "BridgeNfIp6tables": _sysctl_on("net/bridge/bridge-nf-call-ip6tables"),
            "OomKillDisable": os.path.exists("/sys/fs/cgroup/memory/memory.oom_control"),
            "Debug": c.debug, "NFd": _count_fds(), "NGoroutines": _thread_count(),
            "SystemTime": datetime.now(UTC).astimezone().isoformat(),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": cgroup_version(),
            "NEventsListener": 0,
            "KernelVersion": platform.release(),
            "OperatingSystem": pretty,
            "OSVersion": os_version,
            "OSType": "linux",
            "Architecture": platform.machine(),
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": _registry_config(c.insecure_registries),
            "NCPU": os.cpu_count() or 1,
            "MemTotal": mem_total(),
            "GenericResources": None,
            "HttpProxy": os.environ.get("HTTP_PROXY", os.environ.get("http_proxy", "")),
            "HttpsProxy": os.environ.get("HTTPS_PROXY", os.environ.get("https_proxy", "")),
            "NoProxy": os.environ.get("NO_PROXY", os.environ.get("no_proxy", "")),
            "Name": socket.gethostname(),
            "Labels": [],
            "ExperimentalBuild": False,
            "ServerVersion": __version__,
            "Runtimes": _runtimes(c),
            "DefaultRuntime": c.default_runtime,
            "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                      "ControlAvailable": False, "Error": "", "RemoteManagers": None},
            "LiveRestoreEnabled": True,
            "Isolation": "",
            "InitBinary": "",
            "ContainerdCommit": {"ID": "", "Expected": ""},
            "RuncCommit": {"ID": "", "Expected": ""},
            "InitCommit": {"ID": "", "Expected": ""},
            "SecurityOptions": ["name=seccomp,profile=builtin"],
            "DefaultAddressPools": [],
            "Warnings": [],
            "CDISpecDirs": [],
        }


def _runtimes(config: DaemonConfig) -> dict[str, Any]:
    from sampan.daemon.containers.settings import builtin_runtimes

    runtimes = {**builtin_runtimes(config.exec_root, write=False), **dict(config.runtimes)}
    return {name: {"path": path} for name, path in runtimes.items()}


def _registry_config(insecure: tuple[str, ...]) -> dict[str, Any]:
    cidrs = ["127.0.0.0/8"]
    index_configs: dict[str, Any] = {
        "docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True, "Official": True}
    }
    for entry in insecure:
        if "/" in entry:
            cidrs.append(entry)
        else:
            index_configs[entry] = {"Name": entry, "Mirrors": [], "Secure": False, "Official": False}
    return {"AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": cidrs, "IndexConfigs": index_configs, "Mirrors": []}


def _sysctl_on(name: str) -> bool:
    try:
        with open(f"/proc/sys/{name}") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def _count_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def _thread_count() -> int:
    import threading

    return threading.active_count()


def _fs_type(path: str) -> str:
    """The filesystem under `path`, named as Docker names it (extfs, xfs, tmpfs, ...)."""
    best, fstype = "", "unknown"
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                mnt = fields[1]
                if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, fstype = mnt, fields[2]
    except OSError:
        pass
    return {"ext4": "extfs", "ext3": "extfs", "ext2": "extfs"}.get(fstype, fstype)

