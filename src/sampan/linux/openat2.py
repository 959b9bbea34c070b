"""openat2(2) with RESOLVE_IN_ROOT: open a path inside a directory as if it were "/".

The kernel resolves every component (symlinks, "..") in that scope and fails rather than
escaping if a component is swapped meanwhile. Kernels before 5.6 answer ENOSYS.
"""

from __future__ import annotations

import ctypes
import os

SYS_OPENAT2 = 437  # one number on every architecture (added after the 5.1 unification)
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


class Openat2:
    """openat2 through libc's syscall(); one instance per process (it holds the libc handle)."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long

    def open_in_root(self, root_fd: int, path: str, flags: int = os.O_PATH | os.O_CLOEXEC) -> int:
        """An fd of `path` resolved inside `root_fd` (no magic links); OSError with the errno."""
        how = _OpenHow(flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
        fd = self._libc.syscall(SYS_OPENAT2, root_fd, os.fsencode(path or "."), ctypes.byref(how),
                                ctypes.sizeof(how))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
        return int(fd)
