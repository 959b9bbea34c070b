"""docker cp's path decisions and the local tar side (naming, safe unpacking), without a daemon."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from sampan.cli import cp_paths as p
from sampan.cli.cp_tar import CountingReader, extract, tar_chunks
from sampan.cli.errors import StatusError


def test_split_cp_arg() -> None:
    assert p.split_cp_arg("web:/etc/hosts") == ("web", "/etc/hosts")
    assert p.split_cp_arg("/abs:path") == ("", "/abs:path")
    assert p.split_cp_arg("./file:name") == ("", "./file:name")
    assert p.split_cp_arg("plain") == ("", "plain")
    assert p.split_cp_arg("web:") == ("web", "")


def test_trailing_dot_and_separator_survive_cleaning() -> None:
    assert p.preserve_trailing_dot_or_separator("/a/b", "/a/b/.") == "/a/b/."
    assert p.preserve_trailing_dot_or_separator("/a/b", "/a/b/") == "/a/b/"
    assert p.preserve_trailing_dot_or_separator("/", "/.") == "/."
    assert p.resolve_local_path("/x//y/./") == "/x/y/./"  # as Go: both the dot and the separator
    assert p.split_path_dir_entry("/a/b/.") == ("/a/b", ".")
    assert p.split_path_dir_entry("/a/b/") == ("/a", "b")
    assert p.split_path_dir_entry("/") == ("/", "/")
    assert p.go_clean("//a//b/") == "/a/b" and p.go_base("a/b//") == "b" and p.go_dir("/a") == "/"


def test_prepare_copy_cases() -> None:
    file_src, dir_src = p.CopyInfo("/s/f.txt", True, False), p.CopyInfo("/s/d", True, True)
    assert p.prepare_copy(file_src, p.CopyInfo("/t", True, True)) == ("/t", None)
    assert p.prepare_copy(file_src, p.CopyInfo("/t/g.txt", True, False)) == ("/t", p.Rename("f.txt", "g.txt"))
    assert p.prepare_copy(file_src, p.CopyInfo("/t/new")) == ("/t", p.Rename("f.txt", "new"))
    assert p.prepare_copy(dir_src, p.CopyInfo("/t/new")) == ("/t", p.Rename("d", "new"))
    assert p.prepare_copy(p.CopyInfo("/s/d/.", True, True), p.CopyInfo("/t/new")) == ("/t", p.Rename(".", "new"))
    with pytest.raises(StatusError, match=r"^cannot copy directory$"):
        p.prepare_copy(dir_src, p.CopyInfo("/t/g.txt", True, False))
    with pytest.raises(StatusError, match=r"^no such directory$"):
        p.prepare_copy(file_src, p.CopyInfo("/t/new/"))
    linked = p.CopyInfo("/real/target", True, False, rebase_name="link")
    assert p.prepare_copy(linked, p.CopyInfo("/t/new")) == ("/t", p.Rename("link", "new"))


def test_renames() -> None:
    assert p.Rename("d", "new").apply("d/x") == "new/x"
    assert p.Rename("d", "new").apply("d") == "new"
    assert p.Rename("d", "new").apply("dd/x") == "dd/x"
    assert p.Rename(".", "new").apply("./x.txt") == "new/x.txt"
    assert p.Rename(".", "new").apply("x.txt") == "new/x.txt"
    assert p.Rename(".", "new").apply(".") == "new"
    assert p.rebase_name("/a/link/", "/real/dir") == ("/real/dir/", "link")
    assert p.rebase_name("/a/same", "/b/same") == ("/b/same", "")


def test_local_source_and_destination(tmp_path: object) -> None:
    d = str(tmp_path)
    os.mkdir(f"{d}/dir")
    os.symlink("dir", f"{d}/link")
    assert p.source_info(f"{d}/link", False) == p.CopyInfo(f"{d}/link", True, False)
    assert p.source_info(f"{d}/link", True) == p.CopyInfo(f"{d}/dir", True, True, "link")
    assert p.source_info(f"{d}/link/", False) == p.CopyInfo(f"{d}/dir/", True, True, "link")
    with pytest.raises(StatusError, match=f"^lstat {d}/none: no such file or directory$"):
        p.source_info(f"{d}/none", False)
    assert p.destination_info(f"{d}/link") == p.CopyInfo(f"{d}/dir", True, True)
    assert p.destination_info(f"{d}/dir/new") == p.CopyInfo(f"{d}/dir/new")
    with pytest.raises(StatusError, match=f"^stat {d}/none: no such file or directory$"):
        p.destination_info(f"{d}/none/new")


def tar_of(*entries: tuple[str, str, str]) -> CountingReader:
    """(name, kind, data or link target) entries as a tar stream."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data.encode()))
    stream = io.BytesIO(buf.getvalue())
    return CountingReader(lambda: stream.read(4096))


def test_extract_renames_and_counts(tmp_path: object) -> None:
    d = str(tmp_path)
    stream = tar_of(("src", "dir", ""), ("src/a.txt", "file", "A"), ("src/sub", "dir", ""), ("src/sub/b", "file", "B"))
    length = extract(stream, d, [p.Rename("src", "dst")])
    with open(f"{d}/dst/sub/b") as f:
        assert f.read() == "B"
    assert length == 6 * 512 + 1024  # 4 headers, 2 data blocks, the end: not tarfile's 10 kB of padding
    assert stream.total >= length


def test_extract_stays_inside_the_destination(tmp_path: object) -> None:
    d = str(tmp_path)
    os.mkdir(f"{d}/dest")
    os.mkdir(f"{d}/outside")
    # an absolute symlink is kept as it is, and entries below it land inside dest (chroot semantics)
    extract(tar_of(("escape", "sym", f"{d}/outside"), ("escape/x", "file", "X")), f"{d}/dest", [])
    assert os.listdir(f"{d}/outside") == []
    with pytest.raises(StatusError, match="invalid symlink"):
        extract(tar_of(("up", "sym", "../../outside")), f"{d}/dest", [])
    with pytest.raises(StatusError, match="is outside of"):
        extract(tar_of(("../outside/y", "file", "Y")), f"{d}/dest", [])
    assert os.listdir(f"{d}/outside") == []


def test_extract_never_swaps_dirs_and_files(tmp_path: object) -> None:
    d = str(tmp_path)
    os.mkdir(f"{d}/taken")
    with pytest.raises(StatusError, match="cannot overwrite directory"):
        extract(tar_of(("taken", "file", "x")), d, [])
    with open(f"{d}/plain", "w") as f:
        f.write("keep")
    with pytest.raises(StatusError, match="cannot overwrite non-directory"):
        extract(tar_of(("plain", "dir", "")), d, [])
    extract(tar_of(("plain", "file", "new")), d, [])
    with open(f"{d}/plain") as f:
        assert f.read() == "new"


def test_tar_chunks_names_like_docker(tmp_path: object) -> None:
    d = str(tmp_path)
    os.makedirs(f"{d}/src/sub")
    with open(f"{d}/src/sub/f", "w") as f:
        f.write("data")

    def names(info: p.CopyInfo, renames: list[p.Rename]) -> list[str]:
        raw = b"".join(tar_chunks(info, renames))
        assert len(raw) % 512 == 0 and len(raw) < 10240  # no 10 kB record padding
        with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
            return tf.getnames()

    assert names(p.CopyInfo(f"{d}/src", True, True), []) == ["src", "src/sub", "src/sub/f"]
    assert names(p.CopyInfo(f"{d}/src/.", True, True), []) == [".", "./sub", "./sub/f"]
    assert names(p.CopyInfo(f"{d}/src", True, True), [p.Rename("src", "new")]) == ["new", "new/sub", "new/sub/f"]
    assert names(p.CopyInfo(f"{d}/src/sub/f", True, False), []) == ["f"]
