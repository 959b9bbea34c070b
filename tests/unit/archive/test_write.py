"""write_layer: the inverse of apply_layer, reproducible, with its own diff ID."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from sampan.archive import apply_layer, write_layer
from tests.support.images import Entry, tar_bytes
from tests.unit.archive.test_differential import _tree

ENTRIES = [
    Entry("etc", "dir", mode=0o750),
    Entry("etc/conf", data=b"conf", mode=0o640),
    Entry("bin/big", data=os.urandom(300_000), mode=0o755),
    Entry("bin/sh", "symlink", target="/bin/big"),
    Entry("bin/hard", "hardlink", target="bin/big", mode=0o755),
    Entry("fifo", "fifo", mode=0o600),
    Entry("long/" + "n" * 150, data=b"long"),
]


def _write(src: Path, whiteouts: str = "none") -> bytes:
    out = io.BytesIO()
    result = write_layer(str(src), out, whiteouts=whiteouts)
    data = out.getvalue()
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    return data


def test_round_trip(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    apply_layer(io.BytesIO(tar_bytes(ENTRIES)), str(first), compression="", whiteouts="native")
    data = _write(first)
    apply_layer(io.BytesIO(data), str(second), compression="", whiteouts="native")
    assert _tree(first) == _tree(second)
    assert data == _write(first)  # reproducible


def test_hard_links_written_once(tmp_path: Path) -> None:
    apply_layer(io.BytesIO(tar_bytes(ENTRIES)), str(tmp_path), compression="", whiteouts="native")
    with tarfile.open(fileobj=io.BytesIO(_write(tmp_path))) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert members["bin/big"].isreg() and members["bin/hard"].islnk()
    assert members["bin/hard"].linkname == "bin/big"
    assert list(members)[:3] == ["bin", "bin/big", "bin/hard"]  # parents first, sorted


def test_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="whiteout mode"):
        write_layer(str(tmp_path), io.BytesIO(), whiteouts="aufs")
