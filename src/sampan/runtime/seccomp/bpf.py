"""A classic-BPF assembler with labels: conditional jumps reach any distance.

cBPF conditional jumps hold 8-bit forward offsets. After layout, a branch whose target is more
than 255 instructions away gets a trampoline (`ja` has a 32-bit offset) right after it; layout
repeats until every offset fits, which terminates because code only ever grows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Opcodes (linux/bpf_common.h)
LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
ALU_AND_K = 0x04 | 0x50 | 0x00  # BPF_ALU | BPF_AND | BPF_K
JMP_JA = 0x05 | 0x00
JMP_JEQ_K = 0x05 | 0x10
JMP_JGT_K = 0x05 | 0x20
JMP_JGE_K = 0x05 | 0x30
JMP_JSET_K = 0x05 | 0x40
RET_K = 0x06 | 0x00
BPF_MAXINSNS = 4096

_INSN = struct.Struct("=HBBI")


@dataclass
class Label:
    name: str


@dataclass
class Stmt:
    code: int
    k: int


@dataclass
class Jump:
    """Conditional jump; a None target means "the next instruction"."""

    code: int
    k: int
    jt: Label | None
    jf: Label | None


@dataclass
class Goto:
    target: Label


Item = Label | Stmt | Jump | Goto


class Program:
    def __init__(self) -> None:
        self.items: list[Item] = []
        self._count = 0

    def label(self, hint: str = "L") -> Label:
        self._count += 1
        return Label(f"{hint}{self._count}")

    def place(self, label: Label) -> None:
        self.items.append(label)

    def stmt(self, code: int, k: int) -> None:
        self.items.append(Stmt(code, k & 0xFFFFFFFF))

    def ret(self, value: int) -> None:
        self.stmt(RET_K, value)

    def load(self, offset: int) -> None:
        self.stmt(LD_W_ABS, offset)

    def jump(self, code: int, k: int, jt: Label | None, jf: Label | None) -> None:
        self.items.append(Jump(code, k & 0xFFFFFFFF, jt, jf))

    def goto(self, target: Label) -> None:
        self.items.append(Goto(target))

    def assemble(self) -> bytes:
        far: dict[int, tuple[bool, bool]] = {}  # item index -> (true branch far, false branch far)
        while True:
            where, next_of = self._layout(far)
            grown = False
            for i, item in enumerate(self.items):
                if not isinstance(item, Jump):
                    continue
                t_far, f_far = far.get(i, (False, False))
                base = where[i] + 1
                new_t = t_far or _distance(item.jt, next_of[i], where, base) > 255
                new_f = f_far or _distance(item.jf, next_of[i], where, base) > 255
                if (new_t, new_f) != (t_far, f_far):
                    far[i] = (new_t, new_f)
                    grown = True
            if not grown:
                break
        return self._emit(far, where, next_of)

    def _layout(self, far: dict[int, tuple[bool, bool]]) -> tuple[dict[int | str, int], dict[int, int]]:
        where: dict[int | str, int] = {}
        next_of: dict[int, int] = {}
        pos = 0
        for i, item in enumerate(self.items):
            if isinstance(item, Label):
                where[item.name] = pos
                continue
            where[i] = pos
            size = 1
            if isinstance(item, Jump):
                t_far, f_far = far.get(i, (False, False))
                size += int(t_far) + int(f_far)
            pos += size
            if isinstance(item, Jump):
                next_of[i] = pos
        where["__end__"] = pos
        return where, next_of

    def _emit(self, far: dict[int, tuple[bool, bool]], where: dict[int | str, int],
              next_of: dict[int, int]) -> bytes:
        out = bytearray()
        for i, item in enumerate(self.items):
            if isinstance(item, Label):
                continue
            pos = where[i]
            if isinstance(item, Stmt):
                out += _INSN.pack(item.code, 0, 0, item.k)
            elif isinstance(item, Goto):
                out += _INSN.pack(JMP_JA, 0, 0, _check(where[item.target.name] - (pos + 1)))
            else:
                t_far, f_far = far.get(i, (False, False))
                t_pos = _target(item.jt, next_of[i], where)
                f_pos = _target(item.jf, next_of[i], where)
                jt = 0 if t_far else t_pos - (pos + 1)
                jf = int(t_far) if f_far else f_pos - (pos + 1)
                out += _INSN.pack(item.code, _check(jt, 255), _check(jf, 255), item.k)
                tramp = pos + 1
                if t_far:
                    out += _INSN.pack(JMP_JA, 0, 0, _check(t_pos - (tramp + 1)))
                    tramp += 1
                if f_far:
                    out += _INSN.pack(JMP_JA, 0, 0, _check(f_pos - (tramp + 1)))
        if len(out) // 8 > BPF_MAXINSNS:
            raise ValueError(f"seccomp program has {len(out) // 8} instructions, the kernel allows {BPF_MAXINSNS}")
        return bytes(out)


def _target(label: Label | None, after: int, where: dict[int | str, int]) -> int:
    return after if label is None else where[label.name]


def _distance(label: Label | None, after: int, where: dict[int | str, int], base: int) -> int:
    return _target(label, after, where) - base


def _check(offset: int, limit: int = 0xFFFFFFFF) -> int:
    if not 0 <= offset <= limit:
        raise ValueError(f"BPF jump offset {offset} out of range (backward jump?)")
    return offset
