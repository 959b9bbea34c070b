"""Installing a seccomp BPF program in the calling thread (seccomp(2), prctl fallback).

Everything is imported up front: the runtime installs filters after pivot_root, where lazy
imports would fail. The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from collections.abc import Iterable

from sampan import errdefs

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_MODE_FILTER = 2
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38

FILTER_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1,
    "SECCOMP_FILTER_FLAG_LOG": 2,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32,
}
_SYS_SECCOMP = {"x86_64": 317, "aarch64": 277, "i386": 354, "i686": 354, "armv7l": 383}


def flags_value(names: Iterable[str]) -> int:
    """seccomp(2) flag bits for the OCI `linux.seccomp.flags` names."""
    value = 0
    for name in names:
        if name not in FILTER_FLAGS:
            raise errdefs.InvalidArgument(f"invalid seccomp profile: flags: {name!r} is not a supported flag")
        value |= FILTER_FLAGS[name]
    return value


def install_filter(prog: bytes, *, flags: int = 0) -> None:
    """Load `prog` (packed struct sock_filter array) as a seccomp filter for this thread
    (all threads with SECCOMP_FILTER_FLAG_TSYNC)."""
    if not prog or len(prog) % 8:
        raise errdefs.InvalidArgument(f"seccomp program of {len(prog)} bytes is not a sock_filter array")
    buf = ctypes.create_string_buffer(prog, len(prog))
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; } (padded like C)
    fprog = struct.pack("HxxxxxxP" if struct.calcsize("P") == 8 else "HxxP", len(prog) // 8,
                        ctypes.addressof(buf))
    fprog_buf = ctypes.create_string_buffer(fprog, len(fprog))
    libc = ctypes.CDLL(None, use_errno=True)
    nr = _SYS_SECCOMP.get(os.uname().machine)
    err = errno.ENOSYS
    if nr is not None:
        libc.syscall.restype = ctypes.c_long
        rc = libc.syscall(ctypes.c_long(nr), ctypes.c_long(SECCOMP_SET_MODE_FILTER), ctypes.c_long(flags),
                          fprog_buf)
        if rc >= 0:
            return
        err = ctypes.get_errno()
    if err == errno.ENOSYS and flags == 0:
        rc = libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), fprog_buf, 0, 0)
        if rc == 0:
            return
        err = ctypes.get_errno()
    kind = errdefs.InvalidArgument if err == errno.EINVAL else errdefs.System
    raise kind(f"installing the seccomp filter ({len(prog) // 8} instructions, flags {flags:#x}): "
               f"{os.strerror(err)}")


def set_no_new_privs() -> None:
    """prctl(PR_SET_NO_NEW_PRIVS, 1): needed to install a filter without CAP_SYS_ADMIN."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise errdefs.System(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
