"""Docker's defaults for a container's OCI spec: capabilities, mounts, masked paths, device rules.

These are the values dockerd puts in every config.json before the container's own settings are
applied (moby's oci defaults), kept as data so the spec builder and the tests share one copy.
"""

from __future__ import annotations

from typing import Any

OCI_VERSION = "1.0.2-dev"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHM_SIZE = 64 * 1024 * 1024
INIT_PATH_IN_CONTAINER = "/sbin/docker-init"
CPU_PERIOD = 100_000  # microseconds; NanoCpus become a quota over this period
MIN_MEMORY = 6 * 1024 * 1024

# Docker's default capability set, in Docker's order (it shows in `docker inspect` and config.json).
DEFAULT_CAPABILITIES: tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)

MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    "/sys/devices/virtual/powercap",
)

READONLY_PATHS: tuple[str, ...] = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

_NO_SUID_EXEC_DEV = ["nosuid", "noexec", "nodev"]


def default_mounts() -> list[dict[str, Any]]:
    """The filesystems every container gets (a fresh list: callers edit it)."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": list(_NO_SUID_EXEC_DEV)},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [*_NO_SUID_EXEC_DEV, "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", *_NO_SUID_EXEC_DEV]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": list(_NO_SUID_EXEC_DEV)},
    ]


def _char(major: int, minor: int, allow: bool = True) -> dict[str, Any]:
    return {"allow": allow, "type": "c", "major": major, "minor": minor, "access": "rwm"}


def default_device_rules() -> list[dict[str, Any]]:
    """The device cgroup as dockerd writes it: deny all, allow zero, null, (u)random, tty, console."""
    return [
        {"allow": False, "access": "rwm"},
        _char(1, 5),   # /dev/zero
        _char(1, 3),   # /dev/null
        _char(1, 9),   # /dev/urandom
        _char(1, 8),   # /dev/random
        _char(5, 0),   # /dev/tty
        _char(5, 1),   # /dev/console
        _char(10, 229, allow=False),  # /dev/fuse
    ]


# Namespaces in Docker's order; "cgroup" is added when the container gets a private cgroup namespace.
DEFAULT_NAMESPACES: tuple[str, ...] = ("mount", "network", "uts", "pid", "ipc")

# Sysctls Docker lets a container set because the kernel namespaces them (net.* needs its own netns).
NAMESPACED_SYSCTLS: frozenset[str] = frozenset({
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
    "kernel.shmmni", "kernel.shm_rmid_forced",
})
NAMESPACED_SYSCTL_PREFIXES: tuple[str, ...] = ("fs.mqueue.",)
