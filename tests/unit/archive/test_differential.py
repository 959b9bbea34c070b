"""apply_layer extracts random benign archives exactly as tarfile.extractall does."""

from __future__ import annotations

import io
import os
import random
import stat
import tarfile
from pathlib import Path

import pytest

from sampan.archive import apply_layer


def _random_tar(rng: random.Random, fmt: int) -> bytes:
    buf = io.BytesIO()
    dirs = [""]
    files: list[str] = []
    used: set[str] = set()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for i in range(rng.randint(5, 60)):
            parent = rng.choice(dirs)
            base = f"n{i}" + "x" * rng.choice([0, 0, 0, 50, 120])
            name = f"{parent}/{base}" if parent else base
            if name in used:
                continue
            used.add(name)
            info = tarfile.TarInfo(name)
            info.mtime = rng.randint(1_000_000_000, 1_900_000_000)
            kind = rng.choice(["dir", "file", "file", "file", "symlink", "hardlink"])
            if kind == "hardlink" and not files:
                kind = "file"
            data = None
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, rng.choice([0o755, 0o700, 0o775])
                dirs.append(name)
            elif kind == "file":
                size = rng.choice([0, 1, 511, 512, 513, 4096, 70_000, 1_100_000])
                payload = rng.randbytes(size)
                info.size, info.mode = size, rng.choice([0o644, 0o600, 0o755, 0o4755])
                data = io.BytesIO(payload)
                files.append(name)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, rng.choice(["../a", "/etc/passwd", "x" * 150, "n1"])
            else:
                info.type, info.linkname = tarfile.LNKTYPE, rng.choice(files)
                info.mode = 0o644
            tf.addfile(info, data)
    return buf.getvalue()


def _tree(root: Path) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath, n)
            st = p.lstat()
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))  # tarfile leaves symlink times alone
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", st.st_mode, int(st.st_mtime))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", st.st_mode, st.st_nlink, p.read_bytes(), int(st.st_mtime))
            else:  # fifos and devices: never open them
                out[rel] = ("special", st.st_mode, st.st_rdev, int(st.st_mtime))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_same_tree_as_tarfile(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    raw = _random_tar(rng, tarfile.PAX_FORMAT if seed % 2 else tarfile.GNU_FORMAT)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    apply_layer(io.BytesIO(raw), str(ours), compression="", whiteouts="native")
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        tf.extractall(theirs, filter="fully_trusted")
    assert _tree(ours) == _tree(theirs)


def _sample_tree(root: Path) -> None:
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/file").write_bytes(os.urandom(100_000))
    os.link(root / "a/b/file", root / "a/hard")
    (root / ("long" * 40)).write_bytes(b"long name")
    deep = root / "/".join(["d" * 50] * 5)
    deep.mkdir(parents=True)
    (deep / "f").write_bytes(b"deep")
    os.symlink("../" + "t" * 120, root / "a/longlink")
    os.symlink("/abs", root / "a/abs")
    (root / "exe").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "exe", 0o755)
    os.utime(root / "a/b", (1_500_000_000, 1_500_000_000))


@pytest.mark.parametrize("fmt", ["gnu", "oldgnu", "posix"])
def test_same_tree_as_gnu_tar(tmp_path: Path, fmt: str) -> None:
    import subprocess

    src, ours, theirs = tmp_path / "src", tmp_path / "ours", tmp_path / "theirs"
    for d in (src, ours, theirs):
        d.mkdir()
    _sample_tree(src)
    raw = subprocess.run(
        ["tar", "-c", f"--format={fmt}", "-f", "-", "-C", str(src), "."], capture_output=True, check=True
    ).stdout
    apply_layer(io.BytesIO(raw), str(ours), compression="", whiteouts="native")
    subprocess.run(["tar", "-x", "-p", "-f", "-", "-C", str(theirs)], input=raw, check=True)
    assert _tree(ours) == _tree(theirs)
