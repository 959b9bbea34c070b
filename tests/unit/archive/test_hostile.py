"""Hostile layers: nothing a tar says may create, change or link anything outside dest."""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest

from sampan.archive import apply_layer, clean_name
from sampan.errdefs import InvalidArgument, SampanError
from tests.support.images import Entry, tar_bytes


class Box:
    """dest inside a temp dir with a sibling `outside/` whose contents must never change."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.dest = tmp / "dest"
        self.dest.mkdir()
        self.outside = tmp / "outside"
        self.outside.mkdir()
        (self.outside / "victim").write_bytes(b"original")
        self.unique = f"sampan-test-{uuid.uuid4().hex}"
        self._before = self._outside_state()

    def _outside_state(self) -> dict[str, bytes]:
        state = {}
        for dirpath, dirnames, filenames in os.walk(self.tmp):
            if Path(dirpath) == self.tmp and "dest" in dirnames:
                dirnames.remove("dest")  # prune: only the outside matters
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                if p == str(self.dest):
                    continue
                state[p] = b"" if os.path.isdir(p) else Path(p).read_bytes()
        return state

    def apply(self, entries: list[Entry], whiteouts: str = "native") -> None:
        apply_layer(io.BytesIO(tar_bytes(entries)), str(self.dest), compression="", whiteouts=whiteouts)

    def check(self) -> None:
        assert self._outside_state() == self._before, "a layer changed something outside dest"
        for host_dir in ("/etc", "/tmp", "/"):
            assert not os.path.lexists(os.path.join(host_dir, self.unique)), "a layer wrote on the host"


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


@pytest.mark.parametrize("name", ["../escape", "a/../../escape", "./../escape", "../dest/../escape"])
def test_dotdot_breakout_is_an_error(box: Box, name: str) -> None:
    with pytest.raises(InvalidArgument, match="is outside of"):
        box.apply([Entry(name, data=b"x")])
    assert not (box.tmp / "escape").exists()
    box.check()


def test_absolute_names_land_inside(box: Box) -> None:
    box.apply([Entry(f"/{box.unique}/path", data=b"x"), Entry("//double", data=b"d"), Entry("/../up", data=b"u")])
    assert (box.dest / box.unique / "path").read_bytes() == b"x"
    assert (box.dest / "double").read_bytes() == b"d"
    assert (box.dest / "up").read_bytes() == b"u"
    box.check()


def test_absolute_symlink_parent_stays_inside(box: Box) -> None:
    box.apply([Entry("evil", "symlink", target="/etc"), Entry(f"evil/{box.unique}", data=b"pwned")])
    assert (box.dest / "etc" / box.unique).read_bytes() == b"pwned"
    assert os.readlink(box.dest / "evil") == "/etc"  # the link itself is kept as written
    box.check()


def test_relative_symlink_climbing_out_stays_inside(box: Box) -> None:
    box.apply([Entry("up", "symlink", target="../../../.."), Entry(f"up/tmp/{box.unique}", data=b"x")])
    assert (box.dest / "tmp" / box.unique).read_bytes() == b"x"
    box.check()


def test_symlink_to_sibling_dir_stays_inside(box: Box) -> None:
    box.apply([Entry("sib", "symlink", target="../outside"), Entry("sib/victim", data=b"overwritten")])
    assert (box.dest / "outside/victim").read_bytes() == b"overwritten"
    box.check()


def test_symlink_chains_stay_inside(box: Box) -> None:
    box.apply(
        [
            Entry("a", "symlink", target="b/c"),
            Entry("b", "symlink", target="/x/../../.."),
            Entry(f"a/{box.unique}", data=b"x"),
        ]
    )
    assert (box.dest / "c" / box.unique).read_bytes() == b"x"
    box.check()


def test_symlink_loop_is_an_error(box: Box) -> None:
    with pytest.raises(InvalidArgument, match="symbolic links"):
        box.apply([Entry("loop", "symlink", target="loop"), Entry("loop/x", data=b"x")])
    box.check()


def test_file_over_existing_symlink_replaces_the_link(box: Box) -> None:
    os.symlink(str(box.outside / "victim"), box.dest / "link")
    box.apply([Entry("link", data=b"new")])
    assert not (box.dest / "link").is_symlink()
    box.check()


def test_dir_over_existing_symlink_replaces_the_link(box: Box) -> None:
    os.symlink(str(box.outside), box.dest / "d")
    box.apply([Entry("d", "dir"), Entry("d/victim", data=b"new")])
    assert (box.dest / "d").is_dir() and not (box.dest / "d").is_symlink()
    box.check()


def test_hardlink_to_host_file_is_refused(box: Box) -> None:
    with pytest.raises(InvalidArgument):
        box.apply([Entry("pw", "hardlink", target="/etc/passwd")])
    box.check()


def test_hardlink_absolute_target_resolves_inside(box: Box) -> None:
    box.apply([Entry("etc/passwd", data=b"inner"), Entry("pw", "hardlink", target="/etc/passwd")])
    assert (box.dest / "pw").stat().st_ino == (box.dest / "etc/passwd").stat().st_ino
    assert (box.dest / "pw").stat().st_ino != os.stat("/etc/passwd").st_ino
    box.check()


@pytest.mark.parametrize("target", ["../outside/victim", "a/../../outside/victim"])
def test_hardlink_dotdot_target_is_an_error(box: Box, target: str) -> None:
    with pytest.raises(InvalidArgument, match="is outside of"):
        box.apply([Entry("h", "hardlink", target=target)])
    box.check()


def test_hardlink_through_symlink_dir_stays_inside(box: Box) -> None:
    with pytest.raises(InvalidArgument):
        box.apply([Entry("evil", "symlink", target="../outside"), Entry("h", "hardlink", target="evil/victim")])
    assert (box.outside / "victim").stat().st_nlink == 1
    box.check()


@pytest.mark.parametrize("name", [".wh...", ".wh..", "a/.wh...", ".wh."])
def test_whiteout_tricks_are_errors(box: Box, name: str) -> None:
    (box.dest / "a").mkdir()
    with pytest.raises(InvalidArgument):
        box.apply([Entry(name)])
    box.check()


def test_whiteout_through_symlink_stays_inside(box: Box) -> None:
    box.apply([Entry("evil", "symlink", target="../outside"), Entry("evil/.wh.victim")])
    box.apply([Entry("root", "symlink", target="/"), Entry(f"root/.wh.{box.tmp.name}")])
    box.check()


def test_opaque_through_symlink_stays_inside(box: Box) -> None:
    box.apply([Entry("evil", "symlink", target="../outside"), Entry("evil/.wh..wh..opq")])
    box.check()


def test_device_nodes_never_escape(box: Box) -> None:
    try:
        box.apply([Entry("up", "symlink", target="../.."), Entry("up/null", "char", devmajor=1, devminor=3)])
    except SampanError:
        pass
    assert not (box.tmp / "null").exists()
    box.check()


def test_clean_name() -> None:
    assert clean_name("./a//b/./c/", "/d") == "a/b/c"
    assert clean_name("/", "/d") == ""
    assert clean_name("/../../x", "/d") == "x"
    with pytest.raises(InvalidArgument, match=re.escape('"../x" is outside of "/d"')):
        clean_name("../x", "/d")
    with pytest.raises(InvalidArgument, match="NUL"):
        clean_name("a\x00b", "/d")


@pytest.mark.parametrize("key", ["size", "uid", "gid"])
def test_negative_pax_numbers_are_errors(box: Box, key: str) -> None:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("f")
        info.pax_headers = {key: "-5"}
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidArgument, match="negative"):
        apply_layer(io.BytesIO(buf.getvalue()), str(box.dest), compression="", whiteouts="native")
    box.check()


def test_huge_pax_record_is_refused(box: Box) -> None:
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("f")
        info.pax_headers = {"comment": "x" * (17 << 20)}
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidArgument, match="too large"):
        apply_layer(io.BytesIO(buf.getvalue()), str(box.dest), compression="", whiteouts="native")


def test_very_deep_names_fail_cleanly(box: Box) -> None:
    with pytest.raises(InvalidArgument, match="nested too deeply"):
        box.apply([Entry("a/" * 3000 + "f", data=b"x")])
    box.check()
    shutil.rmtree(box.dest)  # the partial tree stays removable with a recursive walk


def test_deep_but_sane_trees_work(box: Box) -> None:
    name = "/".join(["d"] * 300) + "/f"
    box.apply([Entry(name, data=b"x")])
    assert (box.dest / name).read_bytes() == b"x"


def test_absurd_device_numbers_fail_cleanly(box: Box) -> None:
    try:
        box.apply([Entry("dev", "char", devmajor=0o7777777, devminor=0o7777777)])
    except SampanError:
        pass
    box.check()
