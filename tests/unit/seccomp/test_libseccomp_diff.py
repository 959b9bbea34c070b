"""Differential check: our BPF and libseccomp's (exported, not loaded) decide every call alike.

libseccomp is only a reference here (ctypes in a test); sampan itself never uses it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import random
import struct
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from sampan.runtime.seccomp import compile_filter, resolve
from sampan.runtime.seccomp import syscalls as tables
from sampan.runtime.seccomp.compiler import action_value

from .bpfvm import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, run, seccomp_data

LIB = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
DOCKER_PROFILE = "/work/shared/specs/docker-defaults/seccomp-default.json"
ARCH_TOKEN = {"SCMP_ARCH_X86_64": 0xC000003E, "SCMP_ARCH_X86": 0x40000003, "SCMP_ARCH_X32": 0x4000003E}
OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
       "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
SCMP_FLTATR_ACT_BADARCH = 2

try:
    libseccomp: ctypes.CDLL | None = ctypes.CDLL(LIB)
except OSError:
    libseccomp = None

pytestmark = [
    pytest.mark.skipif(libseccomp is None, reason="libseccomp (Debian libseccomp2) is not installed"),
    pytest.mark.skipif(os.uname().machine != "x86_64", reason="reference filters are built for x86_64"),
]


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def reference_filter(seccomp: dict[str, Any]) -> bytes:
    """libseccomp's program for the profile, rules added the way runc adds them."""
    assert libseccomp is not None
    lib = libseccomp
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    profile = resolve(seccomp, "SCMP_ARCH_X86_64")
    default = action_value(profile.default_action, profile.default_errno)
    ctx = ctypes.c_void_p(lib.seccomp_init(ctypes.c_uint32(default)))
    try:
        assert lib.seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, ctypes.c_uint32(0x80000000)) == 0
        for arch in profile.architectures:
            if arch != "SCMP_ARCH_X86_64":
                assert lib.seccomp_arch_add(ctx, ctypes.c_uint32(ARCH_TOKEN[arch])) == 0
        for rule in profile.rules:
            value = action_value(rule.action, rule.errno_ret)
            if value == default:
                continue
            cmps = (ArgCmp * max(1, len(rule.args)))()
            for i, a in enumerate(rule.args):
                cmps[i] = ArgCmp(a.index, OPS[a.op], a.value, a.value_two)
            for name in rule.names:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr == -1 or nr == -10101:  # __NR_SCMP_ERROR: unknown name
                    continue
                lib.seccomp_rule_add_array(ctx, ctypes.c_uint32(value), nr, len(rule.args), cmps)
        with tempfile.TemporaryFile() as f:
            assert lib.seccomp_export_bpf(ctx, f.fileno()) == 0
            f.seek(0)
            return f.read()
    finally:
        lib.seccomp_release(ctx)


def known_to_libseccomp(table: dict[str, int], token: int) -> dict[str, int]:
    """The part of our table libseccomp knows (it lags behind new kernels), checked to agree."""
    assert libseccomp is not None
    libseccomp.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    out = {}
    for name, nr in table.items():
        theirs = libseccomp.seccomp_syscall_resolve_name_arch(token, name.encode())
        if theirs >= 0:
            assert theirs == nr, (name, nr, theirs)
            out[name] = nr
    return out


def samples(table: dict[str, int], arch: int, wide: bool) -> Iterator[bytes]:
    rng = random.Random(arch)
    special = [0, 8, 38, 39, 40, 41, 0x20008, 0xFFFFFFFF, 0x10000000, 0x01200011, 0x1234]
    numbers = sorted(set(table.values()))
    for nr in numbers:
        if arch == AUDIT_ARCH_I386 and nr in (102, 117):
            continue  # socketcall/ipc: libseccomp filters the multiplexed calls differently
        for first in special:
            yield seccomp_data(nr, arch, (first, first))
        for _ in range(2):
            bits = 64 if wide else 32
            yield seccomp_data(nr, arch, tuple(rng.getrandbits(bits) for _ in range(6)))


def _docker() -> dict[str, Any]:
    with open(DOCKER_PROFILE) as f:
        return dict(json.load(f))


CASES = {
    "docker-default": _docker(),
    "deny-list": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                  "syscalls": [
                      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                      {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS",
                       "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
                      {"names": ["mmap"], "action": "SCMP_ACT_LOG",
                       "args": [{"index": 2, "value": 4, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"},
                                {"index": 1, "value": 0x10000, "op": "SCMP_CMP_GE"}]},
                      {"names": ["read"], "action": "SCMP_ACT_TRAP",
                       "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_GT"}]},
                      {"names": ["write"], "action": "SCMP_ACT_ERRNO",
                       "args": [{"index": 2, "value": 0, "op": "SCMP_CMP_LE"}]},
                  ]},
    # 64-bit data only on x86_64: libseccomp truncates them on 32-bit arches, where the kernel
    # never passes high bits anyway (we compare all 64 bits everywhere).
    "wide-args": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 1, "value": 0x100000000, "op": "SCMP_CMP_GE"}]},
        {"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0xFFFF0000FFFF0000, "valueTwo": 0x1234000000000000,
                   "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 1, "value": 0x80000000FFFFFFFF, "op": "SCMP_CMP_LT"}]},
        {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0x1FFFFFFFF, "op": "SCMP_CMP_NE"}]},
    ]},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_decisions_as_libseccomp(name: str) -> None:
    profile = CASES[name]
    ours = compile_filter(profile, arch="x86_64")
    ref = reference_filter(profile)
    arches = resolve(profile, "SCMP_ARCH_X86_64").architectures or ["SCMP_ARCH_X86_64"]
    checked = 0
    mismatches = []
    for arch in arches:
        full = {"SCMP_ARCH_X86_64": tables.X86_64, "SCMP_ARCH_X86": tables.I386,
                "SCMP_ARCH_X32": tables.X32}[arch]
        table = known_to_libseccomp(full, ARCH_TOKEN[arch])
        if profile["defaultAction"] != "SCMP_ACT_ALLOW":
            # Above the highest named syscall we answer ENOSYS like runc (tested on its own).
            named = {n for r in resolve(profile, "SCMP_ARCH_X86_64").rules for n in r.names}
            highest = max(full[n] for n in named if n in full)
            table = {n: nr for n, nr in table.items() if nr <= highest}
        audit = AUDIT_ARCH_I386 if arch == "SCMP_ARCH_X86" else AUDIT_ARCH_X86_64
        for data in samples(table, audit, wide=arch == "SCMP_ARCH_X86_64"):
            a, b = run(ours, data), run(ref, data)
            checked += 1
            if a != b:
                nr, _arch = struct.unpack_from("=iI", data)
                mismatches.append((arch, nr, struct.unpack_from("=6Q", data, 16)[:2], hex(a), hex(b)))
    assert not mismatches[:20], f"{len(mismatches)} of {checked} differ"
    assert checked > 500
