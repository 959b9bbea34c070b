"""Compiled seccomp programs kept under the runtime's --root, one file per profile.

Every container a daemon starts carries the same profile, and every exec of a container
carries its container's. Compiling means importing the compiler (~20 ms) and running it
(~7 ms); reading a kept program costs a fraction of a millisecond. The parent (create or exec)
does this before forking, where --root is reachable, and hands the program to the child.

A kept file starts with the exact text it was compiled from (the profile as JSON, the machine,
the compiler's source stamp) and is used only when that text matches byte for byte, so a
changed profile, architecture or compiler never reuses a stale program.
"""

from __future__ import annotations

import os
import zlib

CACHE_DIR = "seccomp-cache"
_COMPILER_FILES = ("bpf.py", "compiler.py", "consts.py", "profile.py", "syscalls/x86_64.py", "syscalls/i386.py",
                   "syscalls/x32.py", "syscalls/aarch64.py")


def program_for(profile: dict | None, root: str) -> tuple[bytes, int] | None:
    """(BPF program, seccomp(2) flags) for `profile`, compiled once per --root; None for none."""
    if profile is None:
        return None
    from sampan.runtime import jsonc

    key = "\n".join((jsonc.dumps(profile), os.uname().machine, _compiler_stamp())).encode()
    path = os.path.join(root, CACHE_DIR, f"{zlib.crc32(key):08x}-{len(key)}")
    kept = _read(path, key)
    if kept is not None:
        return kept
    from sampan.runtime.process import compile_seccomp

    prog, flags = compile_seccomp(profile)
    _write(path, key, prog, flags)
    return prog, flags


def _compiler_stamp() -> str:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seccomp")
    parts = []
    for name in _COMPILER_FILES:
        try:
            st = os.stat(os.path.join(here, name))
        except OSError:
            parts.append(f"{name}:-")
            continue
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return ",".join(parts)


def _read(path: str, key: bytes) -> tuple[bytes, int] | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    head = len(key)
    if data[:head] != key or data[head:head + 1] != b"\0":
        return None  # another profile with the same checksum, or a torn file: compile
    body = data[head + 1:]
    if len(body) < 12 or (len(body) - 4) % 8:
        return None
    return body[4:], int.from_bytes(body[:4], "little")


def _write(path: str, key: bytes, prog: bytes, flags: int) -> None:
    """Best effort: a root we cannot write to only means compiling each time."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(key + b"\0" + flags.to_bytes(4, "little") + prog)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
