"""The Linux system calls the runtime needs that Python's os module lacks, behind one class.

Everything that changes kernel state for a container (mounts, namespaces, capabilities,
hostnames, device nodes) goes through a `Syscalls` object, so unit tests can pass a
`RecordingSyscalls` that records the calls instead of making them (no root needed).
Errors are raised as OSError with errno and the call that failed, like os functions do.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

# mount(2) flags
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MS_LAZYTIME = 1 << 25
MNT_DETACH = 0x2

# clone(2) / unshare(2) namespace flags
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080

# prctl(2) options
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NAME = 15
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_KEYCTL_NR = {"x86_64": 250, "aarch64": 219, "armv7l": 311, "ppc64le": 283, "s390x": 280, "riscv64": 219}
KEYCTL_JOIN_SESSION_KEYRING = 1
_PIVOT_ROOT_NR = {"x86_64": 155, "aarch64": 41, "armv7l": 218, "ppc64le": 203, "s390x": 217, "riscv64": 41}


def _cap_structs() -> tuple[Any, Any]:
    """struct __user_cap_header_struct and __user_cap_data_struct (made on use: ctypes is only
    imported by the processes that make system calls, not by every runtime command)."""
    import ctypes

    class CapHeader(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class CapData(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    return CapHeader, CapData


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


class Syscalls:
    """Real system calls through libc (ctypes). One instance per process is enough."""

    def __init__(self) -> None:
        import ctypes

        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.c_ulong, ctypes.c_char_p]
        self._libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                                     ctypes.c_ulong, ctypes.c_ulong]

    def _check(self, rc: int, what: str, path: str | None = None) -> int:
        if rc < 0:
            err = self._ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}", path)
        return rc

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        rc = self._libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data or None))
        self._check(rc, f"mount {source or 'none'} to {target} (type {fstype}, flags {flags:#x}, data {data!r})",
                    target)

    def umount2(self, target: str, flags: int = 0) -> None:
        self._check(self._libc.umount2(_b(target), flags), f"umount {target}", target)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        nr = _PIVOT_ROOT_NR.get(os.uname().machine, 155)
        rc = self._libc.syscall(nr, _b(new_root), _b(put_old))
        self._check(rc, f"pivot_root {new_root}", new_root)

    def unshare(self, flags: int) -> None:
        self._check(self._libc.unshare(flags), f"unshare {flags:#x}")

    def join_session_keyring(self, name: str) -> None:
        """A new session keyring, so containers do not share the host's keys (runc does this)."""
        nr = _KEYCTL_NR.get(os.uname().machine, 250)
        rc = self._libc.syscall(nr, KEYCTL_JOIN_SESSION_KEYRING, _b(name))
        self._check(rc, f"join session keyring {name}")

    def setns(self, fd: int, nstype: int = 0) -> None:
        self._check(self._libc.setns(fd, nstype), f"setns {nstype:#x}")

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        self._check(self._libc.sethostname(raw, len(raw)), f"sethostname {name}")

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        self._check(self._libc.setdomainname(raw, len(raw)), f"setdomainname {name}")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return self._check(self._libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl {option}")

    def capget(self) -> tuple[int, int, int]:
        """(effective, permitted, inheritable) of this thread as 64-bit masks."""
        header_t, data_t = _cap_structs()
        hdr = header_t(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (data_t * 2)()
        self._check(self._libc.capget(self._ctypes.byref(hdr), data), "capget")
        lo, hi = data[0], data[1]
        return (lo.effective | (hi.effective << 32), lo.permitted | (hi.permitted << 32),
                lo.inheritable | (hi.inheritable << 32))

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        header_t, data_t = _cap_structs()
        hdr = header_t(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (data_t * 2)()
        for i in range(2):
            shift = 32 * i
            data[i].effective = (effective >> shift) & 0xFFFFFFFF
            data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
            data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
        self._check(self._libc.capset(self._ctypes.byref(hdr), data), "capset")

    def personality(self, persona: int) -> None:
        self._check(self._libc.personality(self._ctypes.c_ulong(persona)), f"personality {persona:#x}")

    def mknod(self, path: str, mode: int, device: int) -> None:
        os.mknod(path, mode, device)

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid)

    def chroot(self, path: str) -> None:
        os.chroot(path)

    def write_file(self, path: str, data: str) -> None:
        """Write a kernel file (sysctl, uid_map, oom_score_adj): one write, no truncation games."""
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)


class RecordingSyscalls(Syscalls):
    """A fake that records each call as (name, args) and changes nothing in the kernel.

    `fail` maps a call name to an OSError to raise, to test error paths and cleanup.
    """

    def __init__(self, fail: dict[str, OSError] | None = None) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.fail = dict(fail or {})
        self.caps = (0, 0, 0)

    def _rec(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise self.fail[name]

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [c[1] for c in self.calls if c[0] == name]

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        self._rec("mount", source, target, fstype, flags, data or None)

    def umount2(self, target: str, flags: int = 0) -> None:
        self._rec("umount2", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        self._rec("pivot_root", new_root, put_old)

    def unshare(self, flags: int) -> None:
        self._rec("unshare", flags)

    def join_session_keyring(self, name: str) -> None:
        self._rec("join_session_keyring", name)

    def setns(self, fd: int, nstype: int = 0) -> None:
        self._rec("setns", fd, nstype)

    def sethostname(self, name: str) -> None:
        self._rec("sethostname", name)

    def setdomainname(self, name: str) -> None:
        self._rec("setdomainname", name)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        self._rec("prctl", option, arg2, arg3, arg4, arg5)
        return 1 if option == PR_CAPBSET_READ else 0

    def capget(self) -> tuple[int, int, int]:
        self._rec("capget")
        return self.caps

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        self._rec("capset", effective, permitted, inheritable)
        self.caps = (effective, permitted, inheritable)

    def personality(self, persona: int) -> None:
        self._rec("personality", persona)

    def mknod(self, path: str, mode: int, device: int) -> None:
        self._rec("mknod", path, mode, device)

    def chown(self, path: str, uid: int, gid: int) -> None:
        self._rec("chown", path, uid, gid)

    def chroot(self, path: str) -> None:
        self._rec("chroot", path)

    def write_file(self, path: str, data: str) -> None:
        self._rec("write_file", path, data)
