"""The v2 device eBPF program, run by a small interpreter against device accesses."""

from __future__ import annotations

import struct
from typing import Any

from sampan.runtime.cgroups.devfilter import ACC_MKNOD, ACC_READ, ACC_WRITE, DEV_BLOCK, DEV_CHAR, build_program
from sampan.runtime.cgroups.devices import DEFAULT_ALLOWED

RW = ACC_READ | ACC_WRITE


def run(prog: bytes, kind: int, access: int, major: int, minor: int) -> int:
    ctx = struct.pack("<III", (access << 16) | kind, major, minor)
    regs = [0] * 11
    insns = [struct.unpack_from("<BBhi", prog, i) for i in range(0, len(prog), 8)]
    pc = 0
    for _ in range(len(insns) + 1):
        code, regbyte, off, imm = insns[pc]
        dst, src = regbyte & 0xF, regbyte >> 4
        pc += 1
        if code == 0x61:
            assert src == 1 and off in (0, 4, 8)
            regs[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif code == 0xBF:
            regs[dst] = regs[src]
        elif code == 0xB7:
            regs[dst] = imm
        elif code == 0x57:
            regs[dst] &= imm
        elif code == 0x77:
            regs[dst] >>= imm
        elif code in (0x55, 0x15):
            hit = regs[dst] != imm if code == 0x55 else regs[dst] == imm
            if hit:
                assert off >= 0
                pc += off
        elif code == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"opcode {code:#x}")
    raise AssertionError("no exit")


def test_docker_like_policy() -> None:
    rules: list[dict[str, Any]] = [{"allow": False, "access": "rwm"}, *DEFAULT_ALLOWED,
                                   {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rw"}]
    prog = build_program(rules)
    assert run(prog, DEV_CHAR, RW, 1, 3) == 1  # /dev/null
    assert run(prog, DEV_CHAR, ACC_READ, 1, 9) == 1  # urandom
    assert run(prog, DEV_CHAR, RW, 136, 7) == 1  # /dev/pts/7
    assert run(prog, DEV_BLOCK, ACC_READ, 8, 0) == 0  # sda
    assert run(prog, DEV_BLOCK, ACC_MKNOD, 8, 0) == 1  # mknod of anything is allowed
    assert run(prog, DEV_CHAR, ACC_READ, 1, 1) == 0  # /dev/mem
    assert run(prog, DEV_CHAR, RW, 10, 200) == 1  # tun, rw only
    assert run(prog, DEV_CHAR, ACC_READ, 10, 201) == 0


def test_last_rule_wins_and_partial_access() -> None:
    prog = build_program([{"allow": True, "type": "a"},
                          {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}])
    assert run(prog, DEV_CHAR, ACC_READ, 1, 3) == 1
    assert run(prog, DEV_CHAR, ACC_WRITE, 1, 3) == 0
    assert run(prog, DEV_CHAR, RW, 1, 3) == 0
    assert run(prog, DEV_BLOCK, ACC_WRITE, 1, 3) == 1
    prog = build_program([{"allow": False}, {"allow": True, "type": "b", "major": 8, "access": "r"}])
    assert run(prog, DEV_BLOCK, ACC_READ, 8, 16) == 1
    assert run(prog, DEV_BLOCK, RW, 8, 16) == 0
    assert run(prog, DEV_CHAR, ACC_READ, 8, 16) == 0


def test_no_rules_allows() -> None:
    assert run(build_program([]), DEV_CHAR, RW, 1, 1) == 1
