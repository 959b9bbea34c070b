"""Stat and tar of container paths with Docker's names and modes (on a plain directory as root)."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from sampan.daemon.containers import cptar


def _tree(tmp_path: object) -> str:
    root = os.path.join(str(tmp_path), "rootfs")
    os.makedirs(os.path.join(root, "etc", "sub"))
    with open(os.path.join(root, "etc", "hosts"), "w") as f:
        f.write("x\n")
    os.link(os.path.join(root, "etc", "hosts"), os.path.join(root, "etc", "sub", "hosts2"))
    os.symlink("/../../..", os.path.join(root, "up"))  # "above" the root: stays at the root
    os.symlink("etc", os.path.join(root, "link"))
    os.mkfifo(os.path.join(root, "etc", "fifo"))
    os.utime(os.path.join(root, "etc", "hosts"), ns=(0, 1_600_000_000_123_456_789))
    return root


def _names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getnames()


def _tar(root: str, path: str) -> bytes:
    buf = io.BytesIO()
    cptar.write_tar(path, buf, root)
    return buf.getvalue()


@pytest.mark.parametrize(("path", "want"), [
    ("/a/b", "/a/b"), ("a/../b", "/b"), ("/a/", "/a/"), ("/a/.", "/a/."), ("/", "/"), ("//a//b/", "/a/b/"),
    ("/a/./", "/a/"), ("", "/"),
])
def test_container_path_keeps_trailing_dot_or_slash(path: str, want: str) -> None:
    assert cptar.container_path(path) == want


def test_go_base_and_mode() -> None:
    assert [cptar.go_base(p) for p in ("/a/b", "/a/b/", "/a/.", "/")] == ["b", "b", ".", "/"]
    assert cptar.go_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert cptar.go_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert cptar.go_mode(stat.S_IFCHR | 0o666) == (1 << 26) | (1 << 21) | 0o666
    assert cptar.go_mode(stat.S_IFBLK | 0o600) == (1 << 26) | 0o600
    assert cptar.go_mode(stat.S_IFIFO | 0o600) == (1 << 25) | 0o600
    assert cptar.go_mode(stat.S_IFREG | 0o4755) == (1 << 23) | 0o755
    assert cptar.go_mode(stat.S_IFDIR | 0o1777) == (1 << 31) | (1 << 20) | 0o777


def test_path_stat_resolves_links_inside_the_root(tmp_path: object) -> None:
    root = _tree(tmp_path)
    info = cptar.path_stat("/up/etc/hosts", root)
    assert (info["name"], info["size"], info["linkTarget"]) == ("hosts", 2, "")
    assert info["mtime"] == "2020-09-13T12:26:40.123456789Z"
    assert cptar.path_stat("/etc", root)["mode"] == (1 << 31) | 0o755
    up = cptar.path_stat("/up", root)
    assert up["linkTarget"] == "/" and up["mode"] & (1 << 27)
    assert cptar.path_stat("/link", root)["linkTarget"] == "/etc"
    os.symlink(".hidden/x", os.path.join(root, "dotlink"))
    assert cptar.path_stat("/dotlink", root)["linkTarget"] == "/.hidden/x"  # resolved as far as it goes
    assert cptar.path_stat("/link/", root)["mode"] & (1 << 31)  # a trailing slash follows it
    with pytest.raises(FileNotFoundError):
        cptar.path_stat("/nope", root)


def test_tar_names_like_docker(tmp_path: object) -> None:
    root = _tree(tmp_path)
    assert _names(_tar(root, "/up/etc")) == ["etc", "etc/fifo", "etc/hosts", "etc/sub", "etc/sub/hosts2"]
    assert _names(_tar(root, "/etc/.")) == [".", "./fifo", "./hosts", "./sub", "./sub/hosts2"]
    assert _names(_tar(root, "/etc/hosts")) == ["hosts"]
    assert _names(_tar(root, "/link")) == ["link"]  # the symlink itself
    assert _names(_tar(root, "/link/"))[:2] == ["link", "link/fifo"]  # followed, named as asked
    with tarfile.open(fileobj=io.BytesIO(_tar(root, "/etc"))) as tf:
        by_name = {m.name: m for m in tf.getmembers()}
    assert by_name["etc/sub/hosts2"].islnk() and by_name["etc/sub/hosts2"].linkname == "etc/hosts"
    assert by_name["etc/fifo"].isfifo() and by_name["etc/hosts"].mtime == 1_600_000_000
    assert by_name["etc/hosts"].uname == "" and by_name["etc"].isdir()


def test_a_file_that_shrinks_while_tarred_keeps_the_stream_valid(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "f")
    with open(path, "wb") as f:
        f.write(b"abc")
    fd = os.open(path, os.O_RDONLY)
    try:
        reader = cptar._Exactly(fd, 6)  # the header said 6 bytes; the file has 3 now
        assert reader.read(4) == b"abc\x00" and reader.read(10) == b"\x00\x00" and reader.read() == b""
    finally:
        os.close(fd)
