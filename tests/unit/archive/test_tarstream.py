"""The streaming tar reader agrees with tarfile on what tarfile writes, and hashes everything."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest

from sampan.archive import tarstream as ts
from sampan.errdefs import InvalidArgument


def _build(fmt: int) -> tuple[bytes, dict[str, bytes]]:
    files: dict[str, bytes] = {}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:

        def add(info: tarfile.TarInfo, data: bytes | None = None) -> None:
            if data is not None:
                info.size = len(data)
                files[info.name] = data
            tf.addfile(info, io.BytesIO(data) if data is not None else None)

        d = tarfile.TarInfo("dir")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        add(d)
        add(tarfile.TarInfo("dir/small"), b"hello")
        add(tarfile.TarInfo("dir/" + "long" * 40), os.urandom(3000))  # > 100 chars
        add(tarfile.TarInfo("/".join(["deep" * 10] * 8) + "/f"), b"deep")  # > 255 chars
        big = tarfile.TarInfo("big")
        big.mode = 0o4755
        big.uid = big.gid = 1000
        add(big, os.urandom((2 << 20) + 17))
        sym = tarfile.TarInfo("link")
        sym.type, sym.linkname = tarfile.SYMTYPE, "target/" + "x" * 150
        add(sym)
        hard = tarfile.TarInfo("hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "dir/small"
        add(hard)
        add(tarfile.TarInfo("empty"), b"")
    return buf.getvalue(), files


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_reader_matches_tarfile(fmt: int) -> None:
    raw, files = _build(fmt)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        expected = tf.getmembers()
    reader = ts.TarReader(io.BytesIO(raw), bufsize=4096)  # small buffer: exercise refills
    got = []
    while (hdr := reader.next()) is not None:
        got.append(hdr)
        if hdr.type in (ts.REG, ts.AREG):
            data = reader.read_data()
            assert data == files[hdr.name]
    assert [h.name.rstrip("/") for h in got] == [m.name for m in expected]
    for h, m in zip(got, expected, strict=True):
        assert h.mode == m.mode
        assert (h.uid, h.gid, int(h.mtime)) == (m.uid, m.gid, int(m.mtime))
        assert h.linkname == m.linkname
        assert h.type == m.type
    digest, size = reader.finish()
    assert digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert size == len(raw)


def test_copy_to_writes_file_data(tmp_path: object) -> None:
    raw, files = _build(tarfile.PAX_FORMAT)
    reader = ts.TarReader(io.BytesIO(raw), bufsize=8192)
    while (hdr := reader.next()) is not None:
        if hdr.name == "big":
            path = os.path.join(str(tmp_path), "big")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            reader.copy_to(fd)
            os.close(fd)
            with open(path, "rb") as f:
                assert f.read() == files["big"]


def test_pax_xattrs_and_times() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("f")
        info.pax_headers = {
            "SCHILY.xattr.user.comment": "hi",
            "SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
            "mtime": "1700000000.5",
        }
        info.uid = 3_000_000  # too big for octal: PAX uid
        tf.addfile(info, io.BytesIO(b""))
    reader = ts.TarReader(io.BytesIO(buf.getvalue()))
    hdr = reader.next()
    assert hdr is not None
    assert hdr.xattrs["user.comment"] == b"hi"
    assert hdr.xattrs["security.capability"] == b"\x01\x00\x00\x02"
    assert hdr.mtime == 1700000000.5
    assert hdr.uid == 3_000_000


def test_base256_numbers() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        info = tarfile.TarInfo("f")
        info.uid = 0o77777777  # > 7 octal digits: GNU base-256
        tf.addfile(info, io.BytesIO(b""))
    hdr = ts.TarReader(io.BytesIO(buf.getvalue())).next()
    assert hdr is not None and hdr.uid == 0o77777777


def test_digest_covers_bytes_after_end_of_archive() -> None:
    raw, _ = _build(tarfile.PAX_FORMAT)
    stream = raw + b"trailing junk after the end blocks"
    reader = ts.TarReader(io.BytesIO(stream))
    while reader.next() is not None:
        pass
    assert reader.finish() == ("sha256:" + hashlib.sha256(stream).hexdigest(), len(stream))


def test_bad_checksum() -> None:
    raw = bytearray(_build(tarfile.PAX_FORMAT)[0])
    raw[0] ^= 0x20
    with pytest.raises(InvalidArgument, match="checksum"):
        ts.TarReader(io.BytesIO(bytes(raw))).next()


def test_truncated_stream() -> None:
    raw, _ = _build(tarfile.PAX_FORMAT)
    reader = ts.TarReader(io.BytesIO(raw[: 512 * 6 + 100]))
    with pytest.raises(InvalidArgument, match="unexpected EOF"):
        while (h := reader.next()) is not None:
            if h.type == ts.REG:
                reader.read_data()


def test_ustar_prefix_field() -> None:
    name = "p" * 90 + "/" + "q" * 90  # fits only with the ustar prefix field
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        tf.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    hdr = ts.TarReader(io.BytesIO(buf.getvalue())).next()
    assert hdr is not None and hdr.name == name


def test_single_zero_block_then_header_is_an_error() -> None:
    one = tarfile.TarInfo("a")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.addfile(one, io.BytesIO(b""))
    first = buf.getvalue()[:512]  # the header of "a" (no data)
    raw = first + bytes(512) + first + bytes(1024)
    reader = ts.TarReader(io.BytesIO(raw))
    assert reader.next() is not None
    with pytest.raises(InvalidArgument, match="after a zero block"):
        reader.next()


def test_one_zero_block_at_eof_ends_the_archive() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        tf.addfile(tarfile.TarInfo("a"), io.BytesIO(b""))
    raw = buf.getvalue()[:512] + bytes(512)
    reader = ts.TarReader(io.BytesIO(raw))
    assert reader.next() is not None
    assert reader.next() is None
