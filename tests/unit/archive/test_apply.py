"""apply_layer: contents, metadata, diff IDs, compression and native whiteouts."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from sampan.archive import apply_layer, detect_compression
from sampan.errdefs import InvalidArgument
from tests.support.images import Entry, compress, tar_bytes


def apply(entries: list[Entry], dest: Path, compression: str = "", whiteouts: str = "native") -> str:
    tar = tar_bytes(entries)
    result = apply_layer(
        io.BytesIO(compress(tar, compression)), str(dest), compression=compression, whiteouts=whiteouts
    )
    assert result.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert result.size == len(tar)
    return result.diff_id


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    d = tmp_path / "dest"
    d.mkdir()
    return d


@pytest.mark.parametrize("compression", ["", "gzip", "zstd"])
def test_contents_and_metadata(dest: Path, compression: str) -> None:
    big = os.urandom(3 << 20)
    apply(
        [
            Entry("etc", "dir", mode=0o750, mtime=1_600_000_000),
            Entry("etc/conf", data=b"conf", mode=0o640, mtime=1_650_000_000),
            Entry("bin/big", data=big, mode=0o755),  # parent dir missing from the tar
            Entry("bin/sh", "symlink", target="/bin/big"),
            Entry("bin/hard", "hardlink", target="bin/big"),
            Entry("fifo", "fifo", mode=0o600),
            Entry("setuid", data=b"s", mode=0o4755),
        ],
        dest,
        compression,
    )
    assert (dest / "etc/conf").read_bytes() == b"conf"
    assert (dest / "etc/conf").stat().st_mode & 0o7777 == 0o640
    assert (dest / "etc/conf").stat().st_mtime == 1_650_000_000
    assert (dest / "etc").stat().st_mode & 0o7777 == 0o750
    assert (dest / "etc").stat().st_mtime == 1_600_000_000  # set after its contents
    assert (dest / "bin/big").read_bytes() == big
    assert os.readlink(dest / "bin/sh") == "/bin/big"
    assert (dest / "bin/hard").stat().st_ino == (dest / "bin/big").stat().st_ino
    assert (dest / "fifo").is_fifo()
    assert (dest / "setuid").stat().st_mode & 0o7777 == 0o4755


def test_long_names_and_root_entry(dest: Path) -> None:
    long = "/".join(["d" * 60] * 6) + "/file"
    apply([Entry("./", "dir", mode=0o711), Entry(long, data=b"x")], dest)
    assert (dest / long).read_bytes() == b"x"
    assert dest.stat().st_mode & 0o7777 == 0o711


def test_detect_compression() -> None:
    assert detect_compression(compress(b"x" * 100, "gzip")[:8]) == "gzip"
    assert detect_compression(compress(b"x" * 100, "zstd")[:8]) == "zstd"
    assert detect_compression(tar_bytes([Entry("a")])[:8]) == ""
    with pytest.raises(InvalidArgument):
        detect_compression(b"BZh91AY&")


@pytest.mark.parametrize("actual", ["", "gzip", "zstd"])
def test_auto_compression_sniffs(dest: Path, actual: str) -> None:
    tar = tar_bytes([Entry("f", data=b"data")])
    r = apply_layer(io.BytesIO(compress(tar, actual)), str(dest), compression="auto", whiteouts="native")
    assert r.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert (dest / "f").read_bytes() == b"data"


def test_unknown_whiteout_mode(dest: Path) -> None:
    with pytest.raises(InvalidArgument):
        apply_layer(io.BytesIO(b""), str(dest), compression="", whiteouts="aufs")


def test_replacements(dest: Path) -> None:
    apply(
        [
            Entry("was_file", data=b"f"),
            Entry("was_dir", "dir"),
            Entry("was_dir/child", data=b"c"),
            Entry("merge", "dir"),
            Entry("merge/old", data=b"o"),
            Entry("link", "symlink", target="was_file"),
        ],
        dest,
    )
    apply(
        [
            Entry("was_file", "dir"),
            Entry("was_file/inside", data=b"i"),
            Entry("was_dir", data=b"now a file"),
            Entry("merge", "dir", mode=0o700),
            Entry("merge/new", data=b"n"),
            Entry("link", data=b"replaced the link"),
        ],
        dest,
    )
    assert (dest / "was_file/inside").read_bytes() == b"i"
    assert (dest / "was_dir").read_bytes() == b"now a file"
    assert sorted(os.listdir(dest / "merge")) == ["new", "old"]
    assert (dest / "merge").stat().st_mode & 0o777 == 0o700
    assert not (dest / "link").is_symlink()
    assert (dest / "link").read_bytes() == b"replaced the link"


def test_native_whiteouts(dest: Path) -> None:
    apply(
        [
            Entry("keep", data=b"k"),
            Entry("gone", data=b"g"),
            Entry("gonedir", "dir"),
            Entry("gonedir/sub", "dir"),
            Entry("gonedir/sub/f", data=b"f"),
            Entry("opq", "dir"),
            Entry("opq/lower1", data=b"1"),
            Entry("opq/lowerdir", "dir"),
            Entry("opq/lowerdir/x", data=b"x"),
            Entry("opq/kept", "dir"),
            Entry("opq/kept/lowerchild", data=b"l"),
        ],
        dest,
    )
    apply(
        [
            Entry(".wh.gone"),
            Entry(".wh.gonedir"),
            Entry(".wh.never_existed"),
            Entry("missing/.wh.x"),
            Entry("opq", "dir"),
            Entry("opq/before", data=b"b"),  # this layer's entry before the marker stays
            Entry("opq/kept", "dir"),
            Entry("opq/.wh..wh..opq"),
            Entry("opq/after", data=b"a"),
        ],
        dest,
    )
    assert sorted(os.listdir(dest)) == ["keep", "opq"]
    assert sorted(os.listdir(dest / "opq")) == ["after", "before", "kept"]
    assert os.listdir(dest / "opq/kept") == []  # the lower child is hidden too


def test_aufs_metadata_is_skipped(dest: Path) -> None:
    apply(
        [Entry(".wh..wh.plnk", "dir"), Entry(".wh..wh.plnk/123.456", data=b"x"), Entry("f", data=b"f")],
        dest,
    )
    assert os.listdir(dest) == ["f"]


def test_symlink_parent_inside_layer(dest: Path) -> None:
    apply(
        [
            Entry("real", "dir"),
            Entry("rel", "symlink", target="real"),
            Entry("rel/f", data=b"via relative link"),
        ],
        dest,
    )
    assert (dest / "real/f").read_bytes() == b"via relative link"
    assert (dest / "rel").is_symlink()


def test_hardlink_to_symlink_links_the_symlink(dest: Path) -> None:
    apply([Entry("s", "symlink", target="/nowhere"), Entry("h", "hardlink", target="s")], dest)
    assert os.readlink(dest / "h") == "/nowhere"


def test_multi_frame_zstd_and_drained_input(dest: Path) -> None:
    import zstandard

    tar = tar_bytes([Entry("a", data=os.urandom(5000)), Entry("b", data=b"b" * 100_000)])
    c = zstandard.ZstdCompressor()
    blob = c.compress(tar[:7000]) + c.compress(tar[7000:])
    stream = io.BytesIO(blob)
    r = apply_layer(stream, str(dest), compression="zstd", whiteouts="native")
    assert r.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert (dest / "b").read_bytes() == b"b" * 100_000
    assert stream.tell() == len(blob)


def test_corrupt_gzip_is_data_loss(dest: Path) -> None:
    from sampan.errdefs import DataLoss

    blob = bytearray(compress(tar_bytes([Entry("a", data=os.urandom(100_000))]), "gzip"))
    blob[5000:5100] = bytes(100)
    with pytest.raises(DataLoss, match="corrupt gzip"):
        apply_layer(io.BytesIO(bytes(blob)), str(dest), compression="gzip", whiteouts="native")


def test_truncated_gzip_is_data_loss(dest: Path) -> None:
    from sampan.errdefs import DataLoss

    blob = compress(tar_bytes([Entry("a", data=os.urandom(100_000))]), "gzip")
    with pytest.raises(DataLoss):
        apply_layer(io.BytesIO(blob[:50_000]), str(dest), compression="gzip", whiteouts="native")


@pytest.mark.parametrize(("actual", "label"), [("gzip", ""), ("zstd", "gzip"), ("", "zstd"), ("gzip", "zstd")])
def test_mislabelled_layers_are_sniffed(dest: Path, actual: str, label: str) -> None:
    tar = tar_bytes([Entry("f", data=b"data" * 1000)])
    r = apply_layer(io.BytesIO(compress(tar, actual)), str(dest), compression=label, whiteouts="native")
    assert r.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert (dest / "f").read_bytes() == b"data" * 1000


def test_unsupported_compression_label(dest: Path) -> None:
    with pytest.raises(InvalidArgument):
        apply_layer(io.BytesIO(b""), str(dest), compression="xz", whiteouts="native")


def test_empty_stream_is_an_empty_layer(dest: Path) -> None:
    r = apply_layer(io.BytesIO(b""), str(dest), compression="", whiteouts="native")
    assert (r.diff_id, r.size) == ("sha256:" + hashlib.sha256(b"").hexdigest(), 0)
