"""apply_layer as root: devices, ownership, setuid bits, xattrs, overlay whiteouts."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from sampan.archive import apply_layer
from tests.support.images import Entry, tar_bytes

pytestmark = pytest.mark.root


def _apply(tar: bytes, dest: Path, whiteouts: str = "native") -> None:
    apply_layer(io.BytesIO(tar), str(dest), compression="", whiteouts=whiteouts)


def test_devices_ownership_and_setuid(tmp_path: Path) -> None:
    _apply(
        tar_bytes(
            [
                Entry("dev", "dir"),
                Entry("dev/null", "char", mode=0o666, devmajor=1, devminor=3),
                Entry("dev/loop9", "block", mode=0o660, devmajor=7, devminor=9, gid=6),
                Entry("fifo", "fifo", mode=0o640, uid=5, gid=5),
                Entry("su", data=b"#!", mode=0o4755, uid=1000, gid=1000),
                Entry("sg", data=b"#!", mode=0o2755, uid=0, gid=50),
                Entry("tmp", "dir", mode=0o1777),
                Entry("owned", "dir", uid=123, gid=456, mode=0o2750),
                Entry("owned/link", "symlink", target="/nowhere", uid=7, gid=8),
            ]
        ),
        tmp_path,
    )
    null = os.lstat(tmp_path / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and os.major(null.st_rdev) == 1 and os.minor(null.st_rdev) == 3
    assert null.st_mode & 0o777 == 0o666
    loop = os.lstat(tmp_path / "dev/loop9")
    assert stat.S_ISBLK(loop.st_mode) and loop.st_gid == 6
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    su = os.lstat(tmp_path / "su")
    assert (su.st_uid, su.st_gid, su.st_mode & 0o7777) == (1000, 1000, 0o4755)
    assert os.lstat(tmp_path / "sg").st_mode & 0o7777 == 0o2755
    assert os.lstat(tmp_path / "tmp").st_mode & 0o7777 == 0o1777
    owned = os.lstat(tmp_path / "owned")
    assert (owned.st_uid, owned.st_gid, owned.st_mode & 0o7777) == (123, 456, 0o2750)
    link = os.lstat(tmp_path / "owned/link")
    assert (link.st_uid, link.st_gid) == (7, 8)


def _xattr_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("ping")
        info.mode = 0o755
        info.pax_headers = {
            "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
            "\x00\x00\x00\x00",
            "SCHILY.xattr.user.note": "hello",
            "SCHILY.xattr.trusted.overlay.opaque": "y",
        }
        tf.addfile(info, io.BytesIO(b""))
        d = tarfile.TarInfo("dir")
        d.type = tarfile.DIRTYPE
        d.pax_headers = {"SCHILY.xattr.trusted.note": "t"}
        tf.addfile(d)
    return buf.getvalue()


def test_xattrs(tmp_path: Path) -> None:
    _apply(_xattr_tar(), tmp_path)
    names = os.listxattr(tmp_path / "ping")
    assert "security.capability" in names
    assert os.getxattr(tmp_path / "ping", "user.note") == b"hello"
    assert "trusted.overlay.opaque" not in names  # a layer cannot forge overlay metadata
    assert os.getxattr(tmp_path / "dir", "trusted.note") == b"t"


def test_overlay_whiteouts_in_upper(tmp_path: Path) -> None:
    _apply(
        tar_bytes(
            [
                Entry("d", "dir"),
                Entry("d/.wh..wh..opq"),
                Entry("d/new", data=b"n"),
                Entry("d/.wh.old", uid=0, gid=0),
                Entry("nested/deeper/.wh.x"),  # parents missing: created in the upper
            ]
        ),
        tmp_path,
        "overlay",
    )
    assert os.getxattr(tmp_path / "d", "trusted.overlay.opaque") == b"y"
    old = os.lstat(tmp_path / "d/old")
    assert stat.S_ISCHR(old.st_mode) and old.st_rdev == os.makedev(0, 0)
    assert stat.S_ISCHR(os.lstat(tmp_path / "nested/deeper/x").st_mode)
    assert sorted(os.listdir(tmp_path / "d")) == ["new", "old"]


def test_write_overlay_upper_as_layer(tmp_path: Path) -> None:
    from sampan.archive import write_layer

    lower, upper, result = tmp_path / "lower", tmp_path / "upper", tmp_path / "result"
    for d in (lower, upper, result):
        d.mkdir()
    lower_entries = [
        Entry("gone", data=b"g"),
        Entry("opq", "dir"),
        Entry("opq/old", data=b"o"),
        Entry("keep", data=b"k"),
    ]
    _apply(tar_bytes(lower_entries), lower)
    _apply(tar_bytes(lower_entries), result)
    _apply(
        tar_bytes([Entry(".wh.gone"), Entry("opq", "dir"), Entry("opq/.wh..wh..opq"), Entry("opq/new", data=b"n")]),
        upper,
        "overlay",
    )
    out = io.BytesIO()
    write_layer(str(upper), out, whiteouts="overlay")
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tf:
        names = [m.name for m in tf.getmembers()]
        assert not any(m.ischr() for m in tf.getmembers())
    assert names == [".wh.gone", "opq", "opq/.wh..wh..opq", "opq/new"]
    _apply(out.getvalue(), result, "native")
    assert sorted(os.listdir(result)) == ["keep", "opq"]
    assert os.listdir(result / "opq") == ["new"]
