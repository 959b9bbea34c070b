"""secure_join keeps paths inside the root; mount options become flags, propagation and data."""

from __future__ import annotations

import os
from typing import Any

from sampan.linux import syscalls as s
from sampan.linux.safepath import secure_join, within
from sampan.runtime.mountopts import parse_options


def test_secure_join_plain(tmp_path: Any) -> None:
    root = str(tmp_path)
    assert secure_join(root, "/etc/passwd") == os.path.join(root, "etc/passwd")
    assert secure_join(root, "../../etc") == os.path.join(root, "etc")
    assert secure_join(root, "/") == root


def test_secure_join_symlinks_stay_inside(tmp_path: Any) -> None:
    root = str(tmp_path)
    os.symlink("/etc", os.path.join(root, "abs"))
    os.symlink("../../../../etc", os.path.join(root, "rel"))
    os.makedirs(os.path.join(root, "a/b"))
    os.symlink("../..", os.path.join(root, "a/b/up"))
    assert secure_join(root, "/abs/shadow") == os.path.join(root, "etc/shadow")
    assert secure_join(root, "/rel/shadow") == os.path.join(root, "etc/shadow")
    assert secure_join(root, "/a/b/up/x") == os.path.join(root, "x")
    assert secure_join(root, "/a/b/up/up/x") == os.path.join(root, "up/x")
    for p in ("/abs", "/rel/x", "/a/b/up/up/up"):
        assert within(root, secure_join(root, p))


def test_secure_join_loop(tmp_path: Any) -> None:
    root = str(tmp_path)
    os.symlink("loop", os.path.join(root, "loop"))
    try:
        secure_join(root, "/loop/x")
    except OSError as e:
        assert e.errno == 40
    else:
        raise AssertionError("symlink loop not detected")


def test_mount_options() -> None:
    o = parse_options(["rbind", "ro", "nosuid", "rprivate", "mode=755", "size=1k"])
    assert o.is_bind
    assert o.flags == s.MS_BIND | s.MS_REC | s.MS_RDONLY | s.MS_NOSUID
    assert o.propagation == (s.MS_PRIVATE | s.MS_REC,)
    assert o.data == "mode=755,size=1k"
    o = parse_options(["ro", "rw", "nodev", "dev", "shared"])
    assert o.flags == 0 and o.propagation == (s.MS_SHARED,) and not o.is_bind
