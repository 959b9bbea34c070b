"""Rootfs and capability logic against RecordingSyscalls (no root, nothing mounted)."""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest

from sampan.errdefs import System
from sampan.linux import caps
from sampan.linux import syscalls as s
from sampan.linux.syscalls import RecordingSyscalls
from sampan.runtime.config import parse
from sampan.runtime.rootfs import RootfsBuilder
from sampan.runtime.spec import default_spec


@pytest.fixture
def bundle(tmp_path: Any) -> str:
    os.makedirs(tmp_path / "rootfs" / "bin")
    return str(tmp_path)


def _spec(mounts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec = default_spec()
    spec["mounts"] = [m for m in spec["mounts"] if m["type"] != "cgroup"] if mounts is None else mounts
    return spec


def test_prepare_order_and_devices(bundle: str) -> None:
    sc = RecordingSyscalls()
    cfg = parse(_spec(), bundle)
    RootfsBuilder(sc, cfg).prepare()
    mounts = sc.of("mount")
    root = cfg.root_path
    assert mounts[0] == (None, "/", None, s.MS_SLAVE | s.MS_REC, None)
    assert mounts[1] == (root, root, "bind", s.MS_BIND | s.MS_REC, None)
    targets = [m[1] for m in mounts[2:]]
    assert targets == [f"{root}/proc", f"{root}/dev", f"{root}/dev/pts", f"{root}/dev/shm", f"{root}/dev/mqueue",
                       f"{root}/sys"]
    nodes = {os.path.relpath(m[0], root): (m[1] & 0o777, os.major(m[2]), os.minor(m[2])) for m in sc.of("mknod")}
    assert nodes["dev/null"] == (0o666, 1, 3) and nodes["dev/urandom"] == (0o666, 1, 9)
    assert set(nodes) == {"dev/null", "dev/zero", "dev/full", "dev/tty", "dev/random", "dev/urandom"}
    assert os.readlink(f"{root}/dev/ptmx") == "pts/ptmx"
    assert os.readlink(f"{root}/dev/fd") == "/proc/self/fd"
    assert os.readlink(f"{root}/dev/stderr") == "/proc/self/fd/2"


def test_bind_mount_target_symlink_stays_in_rootfs(bundle: str, tmp_path: Any) -> None:
    src = tmp_path / "data"
    src.mkdir()
    os.symlink("/etc", os.path.join(bundle, "rootfs", "evil"))
    sc = RecordingSyscalls()
    cfg = parse(_spec([{"destination": "/evil/x", "type": "bind", "source": str(src), "options": ["rbind", "ro"]}]),
                bundle)
    RootfsBuilder(sc, cfg).prepare()
    bind = [m for m in sc.of("mount") if m[0] == str(src)]
    assert bind == [(str(src), f"{cfg.root_path}/etc/x", "bind", s.MS_BIND | s.MS_REC, None)]
    remount = sc.of("mount")[3]
    assert remount[1] == f"{cfg.root_path}/etc/x" and remount[3] & s.MS_REMOUNT and remount[3] & s.MS_RDONLY
    assert os.path.isdir(f"{cfg.root_path}/etc/x") and not os.path.exists("/etc/x")


def test_bad_bind_source_names_the_mount(bundle: str) -> None:
    cfg = parse(_spec([{"destination": "/x", "type": "bind", "source": "/no/such/dir", "options": ["bind"]}]), bundle)
    with pytest.raises(System, match="error mounting '/no/such/dir' to rootfs at '/x'"):
        RootfsBuilder(RecordingSyscalls(), cfg).prepare()


def test_failed_mount_is_reported(bundle: str) -> None:
    sc = RecordingSyscalls(fail={"mount": OSError(errno.EPERM, "Operation not permitted")})
    cfg = parse(_spec(), bundle)
    with pytest.raises(OSError):
        RootfsBuilder(sc, cfg).prepare()


def test_mknod_denied_falls_back_to_bind(bundle: str) -> None:
    sc = RecordingSyscalls(fail={"mknod": PermissionError(errno.EPERM, "denied")})
    cfg = parse(_spec([]), bundle)
    RootfsBuilder(sc, cfg).create_devices()
    binds = [m for m in sc.of("mount") if m[0] == "/dev/null"]
    assert binds == [("/dev/null", f"{cfg.root_path}/dev/null", "bind", s.MS_BIND, None)]


def test_pivot_and_no_pivot(bundle: str) -> None:
    cfg = parse(_spec([]), bundle)
    cwd = os.getcwd()
    try:
        sc = RecordingSyscalls()
        RootfsBuilder(sc, cfg).pivot(no_pivot=False)
        assert sc.names() == ["pivot_root", "mount", "umount2"]
        assert sc.of("umount2") == [(".", s.MNT_DETACH)]
        sc = RecordingSyscalls()
        RootfsBuilder(sc, cfg).pivot(no_pivot=True)
        assert sc.calls == [("mount", (cfg.root_path, "/", None, s.MS_MOVE, None)), ("chroot", (".",))]
    finally:
        os.chdir(cwd)


def test_masked_and_readonly_paths(tmp_path: Any, bundle: str) -> None:
    cfg = parse(_spec([]), bundle)
    d = tmp_path / "dir"
    d.mkdir()
    f = tmp_path / "file"
    f.write_text("x")
    sc = RecordingSyscalls()
    b = RootfsBuilder(sc, cfg)
    b.mask_path(str(d))
    b.mask_path(str(f))
    b.mask_path(str(tmp_path / "missing"))
    b.readonly_path(str(d))
    assert sc.of("mount") == [
        ("tmpfs", str(d), "tmpfs", s.MS_RDONLY, None),
        ("/dev/null", str(f), None, s.MS_BIND, None),
        (str(d), str(d), None, s.MS_BIND | s.MS_REC, None),
        (None, str(d), None, s.MS_BIND | s.MS_RDONLY | s.MS_REC | s.MS_REMOUNT, None),
    ]


def test_capabilities_bounding_and_ambient() -> None:
    sc = RecordingSyscalls()
    keep = caps.mask(["CAP_KILL", "CAP_CHOWN"])
    caps.drop_bounding(sc, keep, 40)
    dropped = [c[1] for c in sc.of("prctl")]
    assert 5 not in dropped and 0 not in dropped and len(dropped) == 39
    assert all(c[0] == s.PR_CAPBSET_DROP for c in sc.of("prctl"))
    sc = RecordingSyscalls()
    caps.set_ambient(sc, caps.mask(["CAP_KILL"]), 40)
    assert sc.of("prctl") == [(s.PR_CAP_AMBIENT, s.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0),
                              (s.PR_CAP_AMBIENT, s.PR_CAP_AMBIENT_RAISE, 5, 0, 0)]
    with pytest.raises(KeyError):
        caps.mask(["CAP_FLY"])
