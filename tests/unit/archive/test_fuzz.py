"""Mutated archives: apply_layer either succeeds or raises an errdefs error, never escapes."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from sampan.archive import apply_layer
from sampan.errdefs import SampanError
from tests.support.images import Entry, tar_bytes
from tests.unit.archive.test_hostile import Box

BASE = tar_bytes(
    [
        Entry("d", "dir"),
        Entry("d/f", data=b"x" * 700),
        Entry("d/" + "l" * 120, data=b"long"),
        Entry("s", "symlink", target="../.."),
        Entry("h", "hardlink", target="d/f"),
        Entry("d/.wh.f"),
        Entry("p", "fifo"),
    ]
)


def _fix_checksums(raw: bytearray) -> None:
    """Recompute every header checksum so mutations get past the first check."""
    pos = 0
    while pos + 512 <= len(raw):
        block = raw[pos : pos + 512]
        if not any(block):
            break
        block[148:156] = b" " * 8
        raw[pos + 148 : pos + 156] = b"%06o\x00 " % sum(block)
        try:
            size = int(bytes(block[124:136]).strip(b" \x00") or b"0", 8)
        except ValueError:
            break
        typ = bytes(block[156:157])
        data = 0 if typ in (b"1", b"2", b"3", b"4", b"5", b"6") else size
        pos += 512 + (data + 511) // 512 * 512


@pytest.mark.parametrize("seed", range(60))
def test_mutated_archives(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    raw = bytearray(BASE)
    headers = [i for i in range(0, len(raw), 512) if raw[i + 257 : i + 262] == b"ustar"]
    for _ in range(rng.randint(1, 6)):
        h = rng.choice(headers)
        off = rng.choice(
            [rng.randrange(0, 100), rng.randrange(100, 160), rng.randrange(156, 345), 156, rng.randrange(512, 600)]
        )  # the last: PAX records or file data after the header
        if h + off >= len(raw):
            continue
        raw[h + off] = rng.choice([0, 0x2E, 0x2F, 0x30, 0x37, 0x80, 0xFF, rng.randrange(256)])
    _fix_checksums(raw)
    box = Box(tmp_path)
    try:
        apply_layer(io.BytesIO(bytes(raw)), str(box.dest), compression="", whiteouts="native")
    except SampanError:
        pass
    box.check()
