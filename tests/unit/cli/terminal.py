"""A tiny terminal emulator for checking what progress output leaves on the screen."""

from __future__ import annotations

import re

_CSI = re.compile(r"\x1b\[(\d*)([ABK])")


def screen(raw: str) -> list[str]:
    """A tiny terminal: newline, carriage return, cursor up/down and erase line."""
    lines = [""]
    row = col = 0
    i = 0
    while i < len(raw):
        m = _CSI.match(raw, i)
        if m:
            n = int(m.group(1) or 1)
            if m.group(2) == "A":
                row = max(0, row - n)
            elif m.group(2) == "B":
                row += n
                while len(lines) <= row:
                    lines.append("")
            elif m.group(1) == "2":
                lines[row] = ""
                col = 0
            i = m.end()
            continue
        ch = raw[i]
        if ch == "\n":
            row += 1
            col = 0
            while len(lines) <= row:
                lines.append("")
        elif ch == "\r":
            col = 0
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1 :]
            col += 1
        i += 1
    return [line.rstrip() for line in lines]
