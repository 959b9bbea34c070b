"""The vocabulary of OCI seccomp objects and its kernel values (seccomp(2), audit.h)."""

from __future__ import annotations

import os

from sampan.linux.seccomp import FILTER_FLAGS

# Imported up front: a runtime compiles filters after pivot_root, when lazy imports would fail.
from . import syscalls

# SECCOMP_RET_* base values; ERRNO and TRACE carry 16 bits of data.
RET_KILL_PROCESS = 0x80000000
RET_KILL_THREAD = 0x00000000
RET_TRAP = 0x00030000
RET_ERRNO = 0x00050000
RET_USER_NOTIF = 0x7FC00000
RET_TRACE = 0x7FF00000
RET_LOG = 0x7FFC0000
RET_ALLOW = 0x7FFF0000
RET_DATA = 0x0000FFFF

EPERM = 1
ENOSYS = 38
# What a syscall from an architecture the filter does not cover gets (libseccomp kills too).
BAD_ARCH_RET = RET_KILL_PROCESS

ACTIONS = {
    "SCMP_ACT_KILL": RET_KILL_THREAD,
    "SCMP_ACT_KILL_THREAD": RET_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": RET_KILL_PROCESS,
    "SCMP_ACT_TRAP": RET_TRAP,
    "SCMP_ACT_ERRNO": RET_ERRNO,
    "SCMP_ACT_TRACE": RET_TRACE,
    "SCMP_ACT_ALLOW": RET_ALLOW,
    "SCMP_ACT_LOG": RET_LOG,
    "SCMP_ACT_NOTIFY": RET_USER_NOTIF,
}
WITH_DATA = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")

OPERATORS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
             "SCMP_CMP_MASKED_EQ")

FLAGS = FILTER_FLAGS  # OCI `flags` names -> seccomp(2) flag bits

X32_SYSCALL_BIT = 0x40000000
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_AARCH64 = 0xC00000B7
AUDIT_ARCH_ARM = 0x40000028

# Every architecture name libseccomp knows; only some have syscall tables here (see TABLES).
ARCHES = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
)
AUDIT_ARCH = {
    "SCMP_ARCH_X86_64": AUDIT_ARCH_X86_64,
    "SCMP_ARCH_X32": AUDIT_ARCH_X86_64,  # told apart by X32_SYSCALL_BIT in the number
    "SCMP_ARCH_X86": AUDIT_ARCH_I386,
    "SCMP_ARCH_AARCH64": AUDIT_ARCH_AARCH64,
}
# Architectures a native one can run (the kernel never reports others to its filters).
COMPATIBLE = {
    "SCMP_ARCH_X86_64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "SCMP_ARCH_AARCH64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
}
# Go's GOARCH names, which Docker profiles use in includes/excludes.arches.
GOARCH = {"SCMP_ARCH_X86_64": "amd64", "SCMP_ARCH_AARCH64": "arm64", "SCMP_ARCH_X86": "x86",
          "SCMP_ARCH_X32": "x32", "SCMP_ARCH_ARM": "arm"}
_MACHINE = {"x86_64": "SCMP_ARCH_X86_64", "amd64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64",
            "arm64": "SCMP_ARCH_AARCH64", "i386": "SCMP_ARCH_X86", "i686": "SCMP_ARCH_X86", "x86": "SCMP_ARCH_X86",
            "x32": "SCMP_ARCH_X32", "arm": "SCMP_ARCH_ARM"}


def arch_name(name: str | None) -> str:
    """Normalise "x86_64", "amd64" or "SCMP_ARCH_X86_64" (None: this machine) to the SCMP name."""
    if name is None:
        name = os.uname().machine
    if name.startswith("SCMP_ARCH_"):
        return name
    return _MACHINE.get(name.lower(), "SCMP_ARCH_" + name.upper())


def syscall_table(arch: str) -> dict[str, int] | None:
    """Name -> number for an architecture, or None when no table is shipped for it."""
    return syscalls.table(arch)
