"""cgroup v2 device policy: OCI device rules -> an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program.

v2 has no devices.allow/deny files; the kernel asks an attached eBPF program instead, with a
context {u32 access_type (access << 16 | type); u32 major; u32 minor} and 1 = allow, 0 = deny.
Rules keep v1's meaning: checked from the last to the first, the first match decides; a rule
of type "a" matches every device and access; with no match the access is allowed (what a v1
cgroup inherits from its parent), so a policy normally starts with a deny-all rule.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from typing import Any

_INSN = struct.Struct("<BBhi")
# eBPF opcodes
LDX_MEM_W = 0x61
MOV64_X = 0xBF
MOV64_K = 0xB7
AND64_K = 0x57
RSH64_K = 0x77
JNE_K = 0x55
JEQ_K = 0x15
EXIT = 0x95

DEV_BLOCK, DEV_CHAR = 1, 2
ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4
_ACCESS = {"m": ACC_MKNOD, "r": ACC_READ, "w": ACC_WRITE}
_ALL_ACCESS = ACC_MKNOD | ACC_READ | ACC_WRITE
# registers: r1 ctx, r2 type, r3 access, r4 major, r5 minor, r6 scratch
R_TYPE, R_ACC, R_MAJOR, R_MINOR, R_TMP = 2, 3, 4, 5, 6


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> tuple[int, int, int, int]:
    return code, (src << 4) | dst, off, imm


def _access_bits(text: str | None) -> int:
    bits = 0
    for ch in text or "rwm":
        bits |= _ACCESS.get(ch, 0)
    return bits or _ALL_ACCESS


def _rule_block(rule: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    """One rule: return its verdict when the device matches, else fall through past the block."""
    allow = 1 if rule.get("allow") else 0
    kind = rule.get("type") or "a"
    # Each step is a plain instruction, or a (code, reg, imm) test that means "no match" when true.
    steps: list[tuple[int, int, int, int] | tuple[int, int, int]] = []
    if kind != "a":
        steps.append((JNE_K, R_TYPE, DEV_BLOCK if kind == "b" else DEV_CHAR))
        access = _access_bits(rule.get("access"))
        if access != _ALL_ACCESS:
            # allow needs every requested bit covered; deny hits when any requested bit is listed
            steps.append(_insn(MOV64_X, R_TMP, R_ACC))
            steps.append(_insn(AND64_K, R_TMP, imm=(~access & _ALL_ACCESS) if allow else access))
            steps.append((JNE_K if allow else JEQ_K, R_TMP, 0))
        for reg, key in ((R_MAJOR, "major"), (R_MINOR, "minor")):
            value = rule.get(key)
            if value is not None and value >= 0:
                steps.append((JNE_K, reg, value))
    tail = [_insn(MOV64_K, 0, imm=allow), _insn(EXIT)]
    body = []
    for pos, step in enumerate(steps):
        if len(step) == 3:
            code, reg, imm = step
            body.append(_insn(code, reg, off=len(steps) - pos - 1 + len(tail), imm=imm))
        else:
            body.append(step)
    return body + tail


def build_program(rules: list[dict[str, Any]]) -> bytes:
    """The packed eBPF instructions for the device rules."""
    insns = [
        _insn(LDX_MEM_W, R_TYPE, 1, 0),
        _insn(MOV64_X, R_ACC, R_TYPE),
        _insn(AND64_K, R_TYPE, imm=0xFFFF),
        _insn(RSH64_K, R_ACC, imm=16),
        _insn(LDX_MEM_W, R_MAJOR, 1, 4),
        _insn(LDX_MEM_W, R_MINOR, 1, 8),
    ]
    for rule in reversed(rules):
        insns.extend(_rule_block(rule))
        if (rule.get("type") or "a") == "a":
            break  # matches everything: the rest would be unreachable, which the verifier refuses
    else:
        insns += [_insn(MOV64_K, 0, imm=1), _insn(EXIT)]
    return b"".join(_INSN.pack(*i) for i in insns)
