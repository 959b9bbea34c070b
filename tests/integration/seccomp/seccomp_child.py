"""Run in a fresh process: install a profile's filter, then probe syscalls or exec a program.

usage: seccomp_child.py PROFILE_JSON probe|exec [argv...]
probe prints a JSON object: Seccomp status, and (errno or result) for a few raw syscalls.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile

from sampan.linux.seccomp import flags_value, install_filter, set_no_new_privs
from sampan.runtime.seccomp import compile_filter

SYS = {"getpid": 39, "mkdir": 83, "reboot": 169, "personality": 135, "getppid": 110}


def raw(libc: ctypes.CDLL, name: str, *args: int) -> list[int]:
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(SYS[name]), *(ctypes.c_long(a) for a in args))
    return [rc, ctypes.get_errno() if rc == -1 else 0]


def main() -> None:
    profile = json.loads(sys.argv[1])
    scratch = tempfile.mkdtemp()  # before the filter: mkdir may be denied afterwards
    set_no_new_privs()
    install_filter(compile_filter(profile), flags=flags_value(profile.get("flags") or []))
    if sys.argv[2] == "exec":
        os.execv(sys.argv[3], sys.argv[3:])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    with open("/proc/self/status") as f:
        status = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
    path = os.path.join(scratch, "d").encode()
    out = {
        "seccomp": status.get("Seccomp"),
        "filters": status.get("Seccomp_filters"),
        "getpid": raw(libc, "getpid"),
        "getppid": raw(libc, "getppid"),
        "mkdir": [libc.mkdir(path, 0o755), ctypes.get_errno()],
        "reboot": raw(libc, "reboot", 0, 0, 0),  # bad magic: EINVAL unless the filter answers first
        "personality_query": raw(libc, "personality", 0xFFFFFFFF),
        "personality_1234": raw(libc, "personality", 0x1234),
        "pid": os.getpid(),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
