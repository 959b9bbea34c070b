"""openat2(RESOLVE_IN_ROOT) targets for the stopped-container binds: symlinks stay in the root."""

from __future__ import annotations

import os

import pytest

from sampan.daemon.containers.inroot import InRoot


@pytest.fixture
def in_root() -> InRoot:
    opener = InRoot()
    if not opener.available:
        pytest.skip("kernel without openat2")
    return opener


def test_targets_are_made_and_resolved_inside_the_root(in_root: InRoot, tmp_path: object) -> None:
    base = str(tmp_path)
    root, outside = os.path.join(base, "root"), os.path.join(base, "outside")
    os.mkdir(root)
    os.mkdir(outside)
    os.symlink(outside, os.path.join(root, "abs"))  # absolute: means <root>/<outside> in the root
    os.symlink("../../../../../outside", os.path.join(root, "rel"))  # climbs: stops at the root
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        for path, is_dir in (("abs/data", True), ("rel/file", False), ("/plain/deep/dir", True)):
            fd = in_root.make_target(root_fd, root, path, is_dir)
            real = os.readlink(f"/proc/self/fd/{fd}")
            os.close(fd)
            assert real.startswith(root + "/"), real
        assert os.listdir(outside) == []
        assert os.path.isdir(os.path.join(root, outside.lstrip("/"), "data"))
        assert os.path.isfile(os.path.join(root, "outside", "file"))
    finally:
        os.close(root_fd)


def test_open_refuses_nothing_but_stays_inside(in_root: InRoot, tmp_path: object) -> None:
    root = os.path.join(str(tmp_path), "root")
    os.makedirs(os.path.join(root, "etc"))
    os.symlink("/etc/../..", os.path.join(root, "up"))
    root_fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        fd = in_root.open(root_fd, "up/etc")
        assert os.readlink(f"/proc/self/fd/{fd}") == os.path.join(root, "etc")
        os.close(fd)
        with pytest.raises(FileNotFoundError):
            in_root.open(root_fd, "up/nope")
    finally:
        os.close(root_fd)
