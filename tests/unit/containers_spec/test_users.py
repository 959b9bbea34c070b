from __future__ import annotations

import os

import pytest

from sampan.daemon.containers.spec import generate_spec
from sampan.daemon.containers.users import ResolvedUser, additional_gids, resolve_groups, resolve_user
from sampan.errdefs import InvalidArgument


@pytest.mark.parametrize(("user", "want"), [
    ("", ResolvedUser(0, 0, (10,), "/root")),
    ("root", ResolvedUser(0, 0, (10,), "/root")),
    ("0", ResolvedUser(0, 0, (10,), "/root")),
    ("u1", ResolvedUser(1000, 1000, (10, 29), "/home/u1")),
    ("1000", ResolvedUser(1000, 1000, (10, 29), "/home/u1")),
    ("u1:wheel", ResolvedUser(1000, 10, (), "/home/u1")),
    ("u1:29", ResolvedUser(1000, 29, (), "/home/u1")),
    ("u1:4242", ResolvedUser(1000, 4242, (), "/home/u1")),
    ("4321", ResolvedUser(4321, 0, (), "/")),
    ("4321:4321", ResolvedUser(4321, 4321, (), "/")),
    ("nobody", ResolvedUser(65534, 65534, (), "/nonexistent")),
    (":wheel", ResolvedUser(0, 10, (), "/root")),
])
def test_resolve_user(rootfs: str, user: str, want: ResolvedUser) -> None:
    assert resolve_user(rootfs, user) == want


def test_unknown_user_and_group(rootfs: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^unable to find user bob: no matching entries in passwd file$"):
        resolve_user(rootfs, "bob")
    with pytest.raises(InvalidArgument, match=r"^unable to find group staff: no matching entries in group file$"):
        resolve_user(rootfs, "u1:staff")


def test_missing_etc_files(tmp_path) -> None:
    root = str(tmp_path)
    assert resolve_user(root, "") == ResolvedUser(0, 0, (), "/")
    assert resolve_user(root, "123:456") == ResolvedUser(123, 456, (), "/")
    with pytest.raises(InvalidArgument, match="unable to find user app"):
        resolve_user(root, "app")


def test_passwd_symlink_stays_inside_root(tmp_path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (tmp_path / "host-passwd").write_text("root:x:0:0::/r:/bin/sh\nevil:x:7:7::/:/bin/sh\n")
    os.symlink("../../host-passwd", root / "etc" / "passwd")  # ".." stops at the container's root
    assert resolve_user(str(root), "0") == ResolvedUser(0, 0, (), "/")
    with pytest.raises(InvalidArgument, match="unable to find user evil"):
        resolve_user(str(root), "evil")
    os.symlink("group", root / "etc" / "group")
    with pytest.raises(InvalidArgument, match="unable to read /etc/group in the container"):
        resolve_user(str(root), "0:0")


def test_group_add(rootfs: str) -> None:
    assert resolve_groups(rootfs, ["audio", "77", "nogroup"]) == [29, 77, 65534]
    with pytest.raises(InvalidArgument, match="Unable to find group staff"):
        resolve_groups(rootfs, ["staff"])
    user = resolve_user(rootfs, "u1")
    assert additional_gids(user, [65534, 10]) == [1000, 10, 29, 65534]


def test_spec_user(make_inputs) -> None:
    spec = generate_spec(make_inputs({"User": "u1"}, {"GroupAdd": ["nogroup"]}))
    assert spec["process"]["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [1000, 10, 29, 65534]}
    spec = generate_spec(make_inputs(image_config={"User": "daemon"}))
    assert spec["process"]["user"] == {"uid": 1, "gid": 1, "additionalGids": [1]}
    spec = generate_spec(make_inputs())
    assert spec["process"]["user"] == {"uid": 0, "gid": 0, "additionalGids": [0, 10]}
    with pytest.raises(InvalidArgument, match="unable to find user ghost"):
        generate_spec(make_inputs({"User": "ghost"}))
