"""Loading an eBPF cgroup device program and attaching it to a cgroup v2 directory (bpf(2)).

Used by the cgroup manager on v2, where device access is decided by such a program. The program
is attached without BPF_F_ALLOW_MULTI, so attaching again replaces the previous one (updates).
"""

from __future__ import annotations

import os
import struct

from sampan import errdefs

BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
_SYS_BPF = {"x86_64": 321, "aarch64": 280}
_LOG_SIZE = 1 << 16


def _bpf(cmd: int, attr: bytes) -> int:
    import ctypes

    nr = _SYS_BPF.get(os.uname().machine)
    if nr is None:
        raise errdefs.NotImplementedFeature(f"bpf(2) number unknown on {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(attr, len(attr))
    rc = libc.syscall(ctypes.c_long(nr), ctypes.c_long(cmd), buf, ctypes.c_long(len(attr)))
    if rc < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return int(rc)


def load_device_program(insns: bytes) -> int:
    """Load a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its fd (the caller closes it)."""
    import ctypes

    license_buf = ctypes.create_string_buffer(b"Apache-2.0")
    code = ctypes.create_string_buffer(insns, len(insns))
    log = ctypes.create_string_buffer(_LOG_SIZE)
    # union bpf_attr, BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, log_level, log_size,
    # log_buf, kern_version, prog_flags, prog_name[16], prog_ifindex, expected_attach_type
    attr = struct.pack("=IIQQIIQII16sII", BPF_PROG_TYPE_CGROUP_DEVICE, len(insns) // 8,
                       ctypes.addressof(code), ctypes.addressof(license_buf), 1, _LOG_SIZE,
                       ctypes.addressof(log), 0, 0, b"sampan_devices", 0, BPF_CGROUP_DEVICE)
    try:
        return _bpf(BPF_PROG_LOAD, attr)
    except OSError as exc:
        detail = log.value.decode(errors="replace").strip()[-400:]
        raise errdefs.System(f"loading the cgroup device program: {exc.strerror}; {detail}") from exc


def attach_device_program(cgroup_dir: str, prog_fd: int) -> None:
    """Attach a loaded device program to a cgroup v2 directory (replacing ours if present)."""
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        attr = struct.pack("=IIII", fd, prog_fd, BPF_CGROUP_DEVICE, 0)
        _bpf(BPF_PROG_ATTACH, attr)
    except OSError as exc:
        raise errdefs.System(f"attaching the device program to {cgroup_dir}: {exc.strerror}") from exc
    finally:
        os.close(fd)
