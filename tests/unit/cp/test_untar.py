"""Docker's Untar rules for PUT /archive, on a plain directory (no root needed)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import tarfile

import pytest

from sampan.daemon.containers import copying, nscopy
from sampan.daemon.containers.untar import UntarOptions, untar
from sampan.errdefs import Forbidden, InvalidArgument, NotFound, System

MTIME = 1_500_000_000


def tar_of(*entries: tuple[str, bytes, str], mode: int = 0o640) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, MTIME
            info.uid, info.gid = os.getuid(), os.getgid()
            if kind == tarfile.REGTYPE:
                info.size = len(value)
                tf.addfile(info, io.BytesIO(value.encode()))
            else:
                info.linkname = value
                tf.addfile(info)
    buf.seek(0)
    return buf


@pytest.fixture
def dest(tmp_path: object) -> str:
    path = os.path.join(str(tmp_path), "dest")
    os.mkdir(path)
    return path


def test_files_links_dirs_modes_and_times(dest: str) -> None:
    untar(tar_of(("d", tarfile.DIRTYPE, ""), ("d/f", tarfile.REGTYPE, "data"), ("d/h", tarfile.LNKTYPE, "d/f"),
                 ("d/s", tarfile.SYMTYPE, "f"), ("d/p", tarfile.FIFOTYPE, ""), ("x/y/z", tarfile.REGTYPE, "deep")),
          dest, UntarOptions())
    st = os.lstat(os.path.join(dest, "d", "f"))
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_mtime == MTIME and st.st_nlink == 2
    assert os.lstat(os.path.join(dest, "d", "h")).st_ino == st.st_ino
    assert os.readlink(os.path.join(dest, "d", "s")) == "f"
    assert stat.S_ISFIFO(os.lstat(os.path.join(dest, "d", "p")).st_mode)
    assert os.lstat(os.path.join(dest, "d")).st_mtime == MTIME  # set after its contents
    assert stat.S_IMODE(os.lstat(os.path.join(dest, "x")).st_mode) == 0o755  # made for a parent
    with open(os.path.join(dest, "x", "y", "z")) as f:
        assert f.read() == "deep"


@pytest.mark.parametrize("entries", [
    [("../evil", tarfile.REGTYPE, "x")],
    [("a/../../evil", tarfile.REGTYPE, "x")],
    [("s", tarfile.SYMTYPE, "../../evil")],
    [("h", tarfile.LNKTYPE, "../evil")],
])
def test_breakouts_are_refused(dest: str, entries: list[tuple[str, bytes, str]]) -> None:
    with pytest.raises(InvalidArgument):
        untar(tar_of(*entries), dest, UntarOptions())
    assert not os.path.exists(os.path.join(os.path.dirname(dest), "evil"))


def test_absolute_names_are_relative_to_the_destination(dest: str) -> None:
    untar(tar_of(("/abs/f", tarfile.REGTYPE, "x"), ("s", tarfile.SYMTYPE, "/etc")), dest, UntarOptions())
    assert os.path.exists(os.path.join(dest, "abs", "f")) and os.readlink(os.path.join(dest, "s")) == "/etc"


def test_existing_entries_are_replaced_unless_told_not_to(dest: str) -> None:
    os.makedirs(os.path.join(dest, "d", "inner"))
    with open(os.path.join(dest, "f"), "w") as f:
        f.write("old")
    with pytest.raises(InvalidArgument, match="cannot overwrite directory"):
        untar(tar_of(("d", tarfile.REGTYPE, "x")), dest, UntarOptions(no_overwrite_dir_non_dir=True))
    with pytest.raises(InvalidArgument, match="cannot overwrite non-directory"):
        untar(tar_of(("f", tarfile.DIRTYPE, "")), dest, UntarOptions(no_overwrite_dir_non_dir=True))
    untar(tar_of(("d", tarfile.REGTYPE, "file now"), ("f", tarfile.REGTYPE, "new")), dest, UntarOptions())
    with open(os.path.join(dest, "d")) as f:
        assert f.read() == "file now"
    with open(os.path.join(dest, "f")) as f:
        assert f.read() == "new"
    os.mkdir(os.path.join(dest, "keep"))
    open(os.path.join(dest, "keep", "child"), "w").close()
    untar(tar_of(("keep", tarfile.DIRTYPE, "")), dest, UntarOptions(no_overwrite_dir_non_dir=True))
    assert os.listdir(os.path.join(dest, "keep")) == ["child"]  # a dir over a dir merges


def test_a_symlink_in_the_way_is_replaced_not_followed(dest: str, tmp_path: object) -> None:
    outside = os.path.join(str(tmp_path), "outside")
    with open(outside, "w") as f:
        f.write("keep")
    os.symlink(outside, os.path.join(dest, "f"))
    untar(tar_of(("f", tarfile.REGTYPE, "new")), dest, UntarOptions())
    assert not os.path.islink(os.path.join(dest, "f"))
    with open(outside) as f:
        assert f.read() == "keep"


@pytest.mark.parametrize("pack", [gzip.compress, bz2.compress, lzma.compress, lambda b: b])
def test_compressed_bodies(dest: str, pack: object) -> None:
    body = pack(tar_of(("f", tarfile.REGTYPE, "x")).getvalue())  # type: ignore[operator]
    untar(io.BytesIO(body), dest, UntarOptions())
    assert os.path.exists(os.path.join(dest, "f"))


def test_an_empty_body_extracts_nothing_and_garbage_is_refused(dest: str) -> None:
    untar(io.BytesIO(b""), dest, UntarOptions())  # dockerd's Untar: no entries, no error
    assert os.listdir(dest) == []
    with pytest.raises(InvalidArgument, match="invalid tar stream"):
        untar(io.BytesIO(b"not a tar at all" * 64), dest, UntarOptions())


def test_helper_errors_come_back_as_their_kinds() -> None:
    err = copying._error(b'noise\n{"kind": "NotFound", "message": "Could not find the file /x in container c"}\n', 1)
    assert isinstance(err, NotFound) and str(err) == "Could not find the file /x in container c"
    assert isinstance(copying._error(b'{"kind": "Forbidden", "message": "ro"}', 1), Forbidden)
    assert isinstance(copying._error(b'{"kind": "os", "message": "x"}', 1), System)  # not an errdefs kind
    err = copying._error(b"Traceback ...\nSegfault\n", -11)
    assert isinstance(err, System) and "status -11" in str(err) and "Segfault" in str(err)


def test_helper_argv_is_isolated_and_carries_the_job() -> None:
    argv = copying.helper_argv({"op": "stat"})
    assert argv[1:4] == ["-I", "-S", "-c"] and argv[-1] == '{"op": "stat"}'
    assert "sampan.daemon.containers.nscopy" in argv[4]


def test_writable_check_follows_docker(tmp_path: object) -> None:
    base = str(tmp_path)
    job = {"volumes": [[f"{base}/rw", False], [f"{base}/rw/ro", True]], "readonly_rootfs": True}
    nscopy._check_writable(job, f"{base}/rw/sub")
    with pytest.raises(Forbidden, match="mounted volume is marked read-only"):
        nscopy._check_writable(job, f"{base}/rw/ro/sub")
    with pytest.raises(Forbidden, match="container rootfs is marked read-only"):
        nscopy._check_writable(job, f"{base}/rwx")
    nscopy._check_writable({"volumes": [], "readonly_rootfs": False}, f"{base}/anything")


def test_the_helper_cannot_import_once_inside() -> None:
    """In a child (it changes import state): after entering, no finder may load a module from disk."""
    import subprocess
    import sys

    code = ("import sys; from sampan.daemon.containers import nscopy; nscopy._no_more_imports()\n"
            "try:\n    import sampan.cli.main\nexcept ImportError:\n    print('refused')\n"
            "import tarfile, json; print(json.dumps(sys.path))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["refused", "[]"]
