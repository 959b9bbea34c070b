from __future__ import annotations

import os

import pytest

from sampan import errdefs
from sampan.runtime.cgroups import new_manager
from sampan.runtime.cgroups.layout import detect, own_cgroups, parse_mountinfo
from sampan.runtime.cgroups.manager import inner_path

HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 0:40 / /mnt/with\\040space rw - ext4 /dev/sda1 rw
"""


def _mountinfo(tmp_path: os.PathLike[str], text: str) -> str:
    path = os.path.join(tmp_path, "mountinfo")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_mountinfo_hybrid(tmp_path: os.PathLike[str]) -> None:
    layout = detect("/sys/fs/cgroup", None, _mountinfo(tmp_path, HYBRID_MOUNTINFO))
    assert layout.mode == "hybrid"
    assert layout.unified == "/sys/fs/cgroup/unified"
    assert layout.v1["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct"
    assert layout.v1["memory"] == "/sys/fs/cgroup/memory"
    assert layout.v1["name=systemd"] == "/sys/fs/cgroup/systemd"
    assert "rw" not in layout.v1 and "xattr" not in layout.v1


def test_mountinfo_v2_and_v1_and_none(tmp_path: os.PathLike[str]) -> None:
    v2 = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert detect("/sys/fs/cgroup", None, _mountinfo(tmp_path, v2)).mode == "v2"
    v1 = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    layout = detect("/sys/fs/cgroup", None, _mountinfo(tmp_path, v1))
    assert (layout.mode, layout.unified) == ("v1", None)
    with pytest.raises(errdefs.System, match="no cgroup filesystem"):
        detect("/elsewhere", None, _mountinfo(tmp_path, v1))


def test_mountinfo_unescapes_paths() -> None:
    rows = parse_mountinfo(HYBRID_MOUNTINFO)
    assert ("/mnt/with space", "ext4", "rw") in rows


def test_fake_dirs(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    for name in ("cpu,cpuacct", "memory", "systemd", "unified"):
        os.mkdir(os.path.join(root, name))
    os.symlink("cpu,cpuacct", os.path.join(root, "cpu"))
    layout = detect(root, "hybrid")
    assert layout.v1 == {"cpu": f"{root}/cpu,cpuacct", "cpuacct": f"{root}/cpu,cpuacct",
                         "memory": f"{root}/memory", "name=systemd": f"{root}/systemd"}
    assert layout.unified == f"{root}/unified"
    assert detect(root, "v1").unified is None
    assert detect(root, "v2").v1 == {}
    with pytest.raises(errdefs.InvalidArgument):
        detect(root, "v3")


def test_inner_path() -> None:
    assert inner_path(None, "abc") == "/sampan/abc"
    assert inner_path("", "abc") == "/sampan/abc"
    assert inner_path("/docker/abc", "abc") == "/docker/abc"
    assert inner_path("/../../etc/x", "abc") == "/etc/x"
    assert inner_path("../x/y", "abc") == "x/y"
    assert inner_path("system.slice:docker:abc", "abc") == "/system.slice/docker-abc.scope"
    assert inner_path(":sampan:abc", "abc") == "/system.slice/sampan-abc.scope"
    assert inner_path("user-1000.slice::abc", "abc") == "/user.slice/user-1000.slice/abc.scope"


def test_paths_absolute_and_relative(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    os.mkdir(os.path.join(root, "memory"))
    m = new_manager("/a/b", "id", root=root, mode="hybrid")
    assert m.paths() == {"memory": f"{root}/memory/a/b", "": f"{root}/unified/a/b"}
    m = new_manager(None, "c1", root=root, mode="v2")
    assert m.paths() == {"": f"{root}/sampan/c1"}


def test_own_cgroups(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "cgroup")
    with open(path, "w") as f:
        f.write("4:memory:/process_api/x\n2:cpu,cpuacct:/\n1:name=systemd:/init.scope\n0::/user.slice\n")
    own = own_cgroups(path)
    assert own == {"memory": "/process_api/x", "cpu": "/", "cpuacct": "/", "name=systemd": "/init.scope",
                   "": "/user.slice"}
