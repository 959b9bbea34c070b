"""OCI seccomp profile -> classic BPF program for seccomp(2), without libseccomp.

Layout: check seccomp_data.arch against each covered architecture (others get BAD_ARCH_RET);
per architecture, a binary search on the syscall number leads to short linear runs where each
listed syscall has its rules inline. Rules for one syscall are tried in order (conditional ones
first, an unconditional one closes the list); anything unmatched gets the default action.
On x86_64 the x32 ABI (numbers with bit 30 set) has its own section, or the bad-arch action when
the profile does not list SCMP_ARCH_X32, so x32 numbers can never slip past rules by name.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

from . import bpf
from .consts import (
    ACTIONS,
    AUDIT_ARCH,
    AUDIT_ARCH_X86_64,
    BAD_ARCH_RET,
    COMPATIBLE,
    ENOSYS,
    EPERM,
    RET_DATA,
    RET_ERRNO,
    X32_SYSCALL_BIT,
    arch_name,
    syscall_table,
)
from .profile import Arg, Profile, Rule, resolve

log = logging.getLogger(__name__)

OFF_NR, OFF_ARCH, OFF_ARGS = 0, 4, 16
_LEAF = 6  # syscalls per linear run at the bottom of the search tree
_LITTLE = sys.byteorder == "little"


def action_value(action: str, errno_ret: int | None) -> int:
    """SECCOMP_RET_* for an action; ERRNO and TRACE carry errnoRet, EPERM when it is absent
    (rules do not inherit defaultErrnoRet, which is the default action's alone)."""
    base = ACTIONS[action]
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        return base | ((EPERM if errno_ret is None else errno_ret) & RET_DATA)
    return base


def compile_filter(seccomp: dict[str, Any], *, arch: str | None = None,
                   capabilities: Iterable[str] | None = None) -> bytes:
    """Packed `struct sock_filter` array for an OCI `linux.seccomp` object (or Docker profile).

    `arch` is the native architecture (this machine's by default). `capabilities` only matter for
    Docker profiles with conditional rules (Docker's default set when None)."""
    native = arch_name(arch)
    profile = resolve(seccomp, native, capabilities)
    return _Compiler(profile, native).build()


class _Compiler:
    def __init__(self, profile: Profile, native: str) -> None:
        self.profile = profile
        self.native = native
        self.default = action_value(profile.default_action, profile.default_errno)
        self.prog = bpf.Program()

    def _arches(self) -> list[str]:
        allowed = COMPATIBLE.get(self.native, (self.native,))
        out = [self.native]
        for arch in self.profile.architectures:
            if arch in out:
                continue
            if arch not in allowed:
                log.debug("seccomp: %s cannot run on %s; left out of the filter", arch, self.native)
            elif syscall_table(arch) is None or arch not in AUDIT_ARCH:
                log.debug("seccomp: no syscall table for %s; its syscalls get the bad-arch action", arch)
            else:
                out.append(arch)
        if syscall_table(self.native) is None or self.native not in AUDIT_ARCH:
            raise ValueError(f"seccomp: no syscall table for the native architecture {self.native}")
        return out

    def build(self) -> bytes:
        arches = self._arches()
        p = self.prog
        p.load(OFF_ARCH)
        for arch in arches:
            if arch == "SCMP_ARCH_X32":
                continue  # handled inside the x86_64 section (same audit arch)
            other = p.label("arch")
            p.jump(bpf.JMP_JEQ_K, AUDIT_ARCH[arch], None, other)
            p.load(OFF_NR)
            if AUDIT_ARCH[arch] == AUDIT_ARCH_X86_64:
                x32 = p.label("x32")
                p.jump(bpf.JMP_JGE_K, X32_SYSCALL_BIT, x32, None)
                self._dispatch(arch)
                p.place(x32)
                if "SCMP_ARCH_X32" in arches:
                    self._dispatch("SCMP_ARCH_X32")
                else:
                    p.ret(BAD_ARCH_RET)
            else:
                self._dispatch(arch)
            p.place(other)
        p.ret(BAD_ARCH_RET)
        return p.assemble()

    def _syscalls(self, arch: str) -> tuple[list[tuple[int, list[Rule]]], int]:
        """(number, rules) for the syscalls with rules, and the highest number the profile names."""
        table = syscall_table(arch) or {}
        by_nr: dict[int, list[Rule]] = {}
        for rule in self.profile.rules:
            for name in rule.names:
                nr = table.get(name)
                if nr is None:
                    log.debug("seccomp: syscall %s is unknown on %s; ignored", name, arch)
                    continue
                by_nr.setdefault(nr, []).append(rule)
        out = []
        for nr, rules in sorted(by_nr.items()):
            ordered = [r for r in rules if r.args] + [r for r in rules if not r.args]
            # Rules that change nothing (unconditional default action) are dropped.
            if len(ordered) == 1 and not ordered[0].args and self._value(ordered[0]) == self.default:
                continue
            out.append((nr, ordered))
        return out, max(by_nr, default=-1)

    def _value(self, rule: Rule) -> int:
        return action_value(rule.action, rule.errno_ret)

    def _dispatch(self, arch: str) -> None:
        """Search tree over the numbers (accumulator holds nr); every path ends in a `ret`.

        Like runc, numbers above the highest one the profile names get ENOSYS under a restrictive
        default: they are syscalls newer than the profile, and libc falls back on ENOSYS only."""
        entries, highest = self._syscalls(arch)
        if highest >= 0 and self.profile.default_action not in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG"):
            known = self.prog.label("known")
            self.prog.jump(bpf.JMP_JGT_K, highest, None, known)
            self.prog.ret(RET_ERRNO | ENOSYS)
            self.prog.place(known)
        self._tree(entries)

    def _tree(self, entries: list[tuple[int, list[Rule]]]) -> None:
        p = self.prog
        if len(entries) <= _LEAF:
            for nr, rules in entries:
                skip = p.label("skip")
                p.jump(bpf.JMP_JEQ_K, nr, None, skip)
                self._rules(rules)
                p.place(skip)
            p.ret(self.default)
            return
        mid = len(entries) // 2
        right = p.label("ge")
        p.jump(bpf.JMP_JGE_K, entries[mid][0], right, None)
        self._tree(entries[:mid])
        p.place(right)
        self._tree(entries[mid:])

    def _rules(self, rules: list[Rule]) -> None:
        """Rule chain for one syscall; every path through it ends in a `ret`."""
        p = self.prog
        for rule in rules:
            if not rule.args:
                p.ret(self._value(rule))
                return
            miss = p.label("miss")
            for arg in rule.args:
                self._compare(arg, miss)
            p.ret(self._value(rule))
            p.place(miss)
        p.ret(self.default)

    def _compare(self, arg: Arg, miss: bpf.Label) -> None:
        """Fall through when the 64-bit argument satisfies `arg`, else jump to `miss`."""
        p = self.prog
        lo_off = OFF_ARGS + 8 * arg.index + (0 if _LITTLE else 4)
        hi_off = OFF_ARGS + 8 * arg.index + (4 if _LITTLE else 0)
        value = arg.value
        hi, lo = value >> 32, value & 0xFFFFFFFF
        ok = p.label("ok")
        op = arg.op
        if op == "SCMP_CMP_MASKED_EQ":
            mask, want = arg.value, arg.value_two
            p.load(hi_off)
            p.stmt(bpf.ALU_AND_K, mask >> 32)
            p.jump(bpf.JMP_JEQ_K, (want >> 32) & 0xFFFFFFFF, None, miss)
            p.load(lo_off)
            p.stmt(bpf.ALU_AND_K, mask & 0xFFFFFFFF)
            p.jump(bpf.JMP_JEQ_K, want & 0xFFFFFFFF, ok, miss)
        elif op == "SCMP_CMP_EQ":
            p.load(hi_off)
            p.jump(bpf.JMP_JEQ_K, hi, None, miss)
            p.load(lo_off)
            p.jump(bpf.JMP_JEQ_K, lo, ok, miss)
        elif op == "SCMP_CMP_NE":
            p.load(hi_off)
            p.jump(bpf.JMP_JEQ_K, hi, None, ok)
            p.load(lo_off)
            p.jump(bpf.JMP_JEQ_K, lo, miss, ok)
        elif op in ("SCMP_CMP_GT", "SCMP_CMP_GE"):
            p.load(hi_off)
            p.jump(bpf.JMP_JGT_K, hi, ok, None)
            p.jump(bpf.JMP_JEQ_K, hi, None, miss)
            p.load(lo_off)
            p.jump(bpf.JMP_JGT_K if op == "SCMP_CMP_GT" else bpf.JMP_JGE_K, lo, ok, miss)
        else:  # SCMP_CMP_LT / SCMP_CMP_LE: the negations of GE / GT
            p.load(hi_off)
            p.jump(bpf.JMP_JGT_K, hi, miss, None)
            p.jump(bpf.JMP_JEQ_K, hi, None, ok)
            p.load(lo_off)
            p.jump(bpf.JMP_JGE_K if op == "SCMP_CMP_LT" else bpf.JMP_JGT_K, lo, miss, ok)
        p.place(ok)
