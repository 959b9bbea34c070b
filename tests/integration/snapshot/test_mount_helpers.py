"""mount_all / unmount_all / is_mounted against real mounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sampan.errdefs import System
from sampan.snapshot import Mount, mount_all, unmount_all
from sampan.snapshot.mount import is_mounted, mounted_under

pytestmark = pytest.mark.root


def test_paths_with_spaces_and_stacked_mounts(tmp_path: Path) -> None:
    src, target = tmp_path / "a src", tmp_path / "the target"
    src.mkdir()
    target.mkdir()
    (src / "f").write_text("x")
    try:
        mount_all([Mount("bind", str(src), ["ro", "rbind"]), Mount("tmpfs", "tmpfs", ["size=1m"])], str(target))
        assert is_mounted(str(target))
        assert mounted_under(str(tmp_path))
        assert not (target / "f").exists()  # the tmpfs is on top of the bind
    finally:
        unmount_all(str(target))
    assert not is_mounted(str(target))
    assert not mounted_under(str(tmp_path))
    unmount_all(str(target))  # nothing mounted: fine


def test_failed_mount_rolls_back(tmp_path: Path) -> None:
    src, target = tmp_path / "src", tmp_path / "target"
    src.mkdir()
    target.mkdir()
    try:
        with pytest.raises(System):
            mount_all([Mount("bind", str(src), ["rbind"]), Mount("bind", str(tmp_path / "missing"), [])], str(target))
        assert not is_mounted(str(target))
    finally:
        unmount_all(str(target))
