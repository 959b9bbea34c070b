"""A tiny classic-BPF interpreter for seccomp programs (the subset the compiler emits, checked)."""

from __future__ import annotations

import struct

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_AARCH64 = 0xC00000B7


def seccomp_data(nr: int, arch: int = AUDIT_ARCH_X86_64, args: tuple[int, ...] = ()) -> bytes:
    full = [*args, *([0] * (6 - len(args)))]
    return struct.pack("=iIQ6Q", nr if nr < 2**31 else nr - 2**32, arch, 0, *full)


def run(prog: bytes, data: bytes) -> int:
    """The filter's return value; raises on anything the kernel's checker would refuse."""
    assert len(prog) % 8 == 0 and 0 < len(prog) // 8 <= 4096
    insns = [struct.unpack_from("=HBBI", prog, off) for off in range(0, len(prog), 8)]
    acc, pc, steps = 0, 0, 0
    while True:
        steps += 1
        assert steps <= len(insns), "loop: cBPF only jumps forward"
        code, jt, jf, k = insns[pc]
        pc += 1
        if code == 0x20:  # ld w abs
            assert k % 4 == 0 and k + 4 <= len(data), f"bad load offset {k}"
            acc = struct.unpack_from("=I", data, k)[0]
        elif code == 0x54:  # alu and k
            acc &= k
        elif code == 0x05:  # ja
            pc += k
        elif code in (0x15, 0x25, 0x35, 0x45):
            cond = {0x15: acc == k, 0x25: acc > k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if cond else jf
        elif code == 0x06:  # ret k
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        assert pc < len(insns), "fell off the end of the program"
