"""Linux capabilities: names to numbers, and applying the five OCI capability sets.

The order matters and follows what the kernel allows: drop the bounding set while we still
hold CAP_SETPCAP, keep capabilities across the uid change (PR_SET_KEEPCAPS), switch user,
then capset the effective/permitted/inheritable sets and raise the ambient ones last.
"""

from __future__ import annotations

from sampan.linux.syscalls import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    Syscalls,
)

CAPABILITIES: dict[str, int] = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
    "CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
    "CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
    "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
    "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
    "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
    "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
    "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
    "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
    "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
    "CAP_CHECKPOINT_RESTORE": 40,
}

CAP_SETPCAP = 8


def last_cap() -> int:
    """The highest capability this kernel knows (bounding drops stop there)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return max(CAPABILITIES.values())


def cap_number(name: str) -> int:
    """The number of a capability name ("CAP_KILL"); KeyError if unknown."""
    return CAPABILITIES[name.upper()]


def mask(names: tuple[str, ...] | list[str]) -> int:
    out = 0
    for name in names:
        out |= 1 << cap_number(name)
    return out


def drop_bounding(sc: Syscalls, keep: int, top: int) -> None:
    """Drop every capability not in `keep` from the bounding set (needs CAP_SETPCAP)."""
    for cap in range(top + 1):
        if not keep & (1 << cap):
            try:
                sc.prctl(PR_CAPBSET_DROP, cap)
            except OSError as e:
                if e.errno != 22:  # EINVAL: the kernel does not know this one
                    raise


def set_caps(sc: Syscalls, effective: int, permitted: int, inheritable: int) -> None:
    sc.capset(effective, permitted, inheritable)


def set_ambient(sc: Syscalls, ambient: int, top: int) -> None:
    """Clear the ambient set, then raise each wanted one (each must be permitted+inheritable)."""
    sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in range(top + 1):
        if ambient & (1 << cap):
            try:
                sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)
            except OSError as e:
                # runc ignores failures to raise ambient caps (they need inheritable+permitted)
                if e.errno not in (1, 22):
                    raise
