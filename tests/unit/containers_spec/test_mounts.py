from __future__ import annotations

import os

import pytest

from sampan.daemon.containers.spec import generate_spec
from sampan.daemon.containers.spec_mounts import merge_tmpfs_options, parse_api_mount, parse_bind, tmpfs_size_option
from sampan.daemon.containers.spec_mountset import rootfs_propagation
from sampan.errdefs import InvalidArgument, NotImplementedFeature


def _by_dest(spec: dict) -> dict[str, dict]:
    return {m["destination"]: m for m in spec["mounts"]}


def test_default_mounts(make_inputs, tmp_path) -> None:
    spec = generate_spec(make_inputs())
    dests = [m["destination"] for m in spec["mounts"]]
    assert dests == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
                     "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"]
    mounts = _by_dest(spec)
    assert mounts["/dev/shm"] == {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                                  "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]}
    assert mounts["/etc/hosts"] == {"destination": "/etc/hosts", "type": "bind",
                                    "source": f"{tmp_path}/cdir/hosts", "options": ["rbind", "rprivate"]}
    assert mounts["/sys"]["options"] == ["nosuid", "noexec", "nodev", "ro"]
    assert "rootfsPropagation" not in spec["linux"]
    assert spec["root"] == {"path": make_inputs().rootfs}


def test_shm_size_and_shm_path(make_inputs) -> None:
    assert _by_dest(generate_spec(make_inputs(host_config={"ShmSize": 1 << 20})))["/dev/shm"]["options"][-1] \
        == "size=1048576"
    spec = generate_spec(make_inputs(shm_path="/c/shm"))
    assert spec["mounts"][-1] == {"destination": "/dev/shm", "type": "bind", "source": "/c/shm",
                                  "options": ["rbind", "rprivate"]}  # an IPC mount: after the /etc files
    assert "/dev/shm" not in _by_dest(generate_spec(make_inputs(host_config={"IpcMode": "none"})))
    assert _by_dest(generate_spec(make_inputs(host_config={"IpcMode": "host"})))["/dev/shm"]["source"] == "/dev/shm"


def test_readonly_rootfs(make_inputs) -> None:
    spec = generate_spec(make_inputs(host_config={"ReadonlyRootfs": True}))
    assert spec["root"]["readonly"] is True
    for dest in ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf"):
        assert _by_dest(spec)[dest]["options"] == ["rbind", "ro", "rprivate"]


def test_binds_are_created_and_sorted(make_inputs, tmp_path) -> None:
    src = tmp_path / "made" / "here"
    hc = {"Binds": [f"{src}:/a/b/c:ro", f"{tmp_path}:/a", f"{tmp_path}:/z:rw,z"],
          "Tmpfs": {"/run": "size=1m,exec", "/a/b": ""}}
    spec = generate_spec(make_inputs(host_config=hc))
    assert src.is_dir()
    own = [m for m in spec["mounts"] if m["destination"] not in ("/proc", "/dev", "/dev/pts", "/sys",
                                                                  "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm")]
    # dockerd: binds, /etc files, then HostConfig.Tmpfs, stable-sorted by depth
    assert [m["destination"] for m in own] == ["/a", "/z", "/run", "/etc/resolv.conf", "/etc/hostname",
                                                "/etc/hosts", "/a/b", "/a/b/c"]
    m = _by_dest(spec)
    assert m["/a/b/c"]["options"] == ["rbind", "ro", "rprivate"]
    assert m["/z"]["options"] == ["rbind", "rprivate"]
    assert m["/run"] == {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
                         "options": ["nosuid", "nodev", "rprivate", "size=1m", "exec"]}
    assert m["/a/b"]["options"] == ["noexec", "nosuid", "nodev", "rprivate"]


def test_user_mount_overrides_defaults(make_inputs, tmp_path) -> None:
    spec = generate_spec(make_inputs(host_config={"Binds": [f"{tmp_path}:/etc/hosts"],
                                                  "Tmpfs": {"/dev": "", "/proc": ""}}))
    dests = [m["destination"] for m in spec["mounts"]]
    assert dests.count("/etc/hosts") == 1 and _by_dest(spec)["/etc/hosts"]["source"] == str(tmp_path)
    assert "/dev/pts" not in dests and "/dev/shm" not in dests and "/dev/mqueue" not in dests
    assert _by_dest(spec)["/proc"]["type"] == "tmpfs"


def test_api_mounts(tmp_path) -> None:
    bind = parse_api_mount({"Type": "bind", "Source": str(tmp_path), "Target": "/b", "ReadOnly": True})
    assert bind.options == ("rbind", "ro", "rprivate")
    bind = parse_api_mount({"Type": "bind", "Source": str(tmp_path), "Target": "/b",
                            "BindOptions": {"NonRecursive": True, "Propagation": "rslave"}})
    assert bind.options == ("bind", "rslave") and bind.propagation == "rslave"
    tmpfs = parse_api_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 2 << 20, "Mode": 0o700}})
    assert tmpfs.options == ("noexec", "nosuid", "nodev", "rprivate", "mode=700", "size=2m")
    tmpfs = parse_api_mount({"Type": "tmpfs", "Target": "/t", "ReadOnly": True, "TmpfsOptions": {"SizeBytes": 1000}})
    assert tmpfs.options == ("noexec", "nosuid", "nodev", "rprivate", "ro", "size=1000")


@pytest.mark.parametrize(("mount", "message"), [
    ({"Type": "bind", "Source": "/nonexistent/x", "Target": "/x"},
     'invalid mount config for type "bind": bind source path does not exist: /nonexistent/x'),
    ({"Type": "bind", "Source": "/", "Target": "rel"},
     "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"),
    ({"Type": "bind", "Source": "/", "Target": "/"},
     "invalid mount config for type \"bind\": invalid specification: destination can't be '/'"),
    ({"Type": "bind", "Target": "/x"}, 'invalid mount config for type "bind": field Source must not be empty'),
    ({"Type": "tmpfs", "Source": "/x", "Target": "/x"},
     'invalid mount config for type "tmpfs": field Source must not be specified'),
    ({"Type": "bind", "Source": "/", "Target": "/x", "TmpfsOptions": {"SizeBytes": 1}},
     'invalid mount config for type "bind": field TmpfsOptions must not be specified'),
    ({"Type": "weird", "Target": "/x"}, 'invalid mount config for type "weird": mount type unknown'),
])
def test_bad_api_mounts(mount: dict, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_api_mount(mount)
    assert str(err.value) == message


def test_volume_mounts_not_implemented() -> None:
    with pytest.raises(NotImplementedFeature):
        parse_api_mount({"Type": "volume", "Source": "v", "Target": "/x"})
    with pytest.raises(NotImplementedFeature):
        parse_bind("myvol:/data")
    with pytest.raises(NotImplementedFeature):
        parse_bind("/data")


@pytest.mark.parametrize(("raw", "message"), [
    ("/a:/b:xx", "invalid mode: xx"),
    ("/a:/b:ro,rw", "invalid mode: ro,rw"),
    ("/a:ro", "invalid volume specification: '/a:ro'"),
    (":/b", "invalid volume specification: ':/b'"),
    ("/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'"),
    ("/a:/", "invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
             "invalid specification: destination can't be '/'"),
])
def test_bad_binds(raw: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_bind(raw)
    assert str(err.value) == message


def test_bind_modes() -> None:
    assert parse_bind("/a:/b:ro,Z,nocopy").options == ("rbind", "ro", "rprivate")
    assert parse_bind("/a/:/b/../c").destination == "/c"
    assert parse_bind("/a:/b:slave").options == ("rbind", "slave")


def test_duplicate_mount_point(make_inputs, tmp_path) -> None:
    with pytest.raises(InvalidArgument, match="Duplicate mount point: /x"):
        generate_spec(make_inputs(host_config={"Binds": [f"{tmp_path}:/x"], "Tmpfs": {"/x": ""}}))


def test_tmpfs_options() -> None:
    assert merge_tmpfs_options(["noexec", "nosuid", "rprivate", "size=1m", "exec", "size=2m", "shared"]) == [
        "nosuid", "exec", "size=2m", "shared"]
    with pytest.raises(InvalidArgument, match="invalid tmpfs option"):
        merge_tmpfs_options(["bogus=1"])
    assert tmpfs_size_option(3 << 30) == "size=3g"
    assert tmpfs_size_option(1536) == "size=1536"
    assert tmpfs_size_option(1 << 20) == "size=1m"


def test_rootfs_propagation(tmp_path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                    "30 22 0:5 / /priv rw - tmpfs tmpfs rw\n"
                    "31 22 0:6 / /slave rw master:3 - tmpfs tmpfs rw\n")
    shared = parse_bind("/data:/d:rshared")
    slave = parse_bind("/slave/x:/s:rslave")
    assert rootfs_propagation([parse_bind("/data:/d")], str(info)) is None
    assert rootfs_propagation([slave], str(info)) == "rslave"
    assert rootfs_propagation([slave, shared], str(info)) == "shared"
    with pytest.raises(InvalidArgument, match="path /priv/x is mounted on /priv but it is not a shared mount"):
        rootfs_propagation([parse_bind("/priv/x:/p:shared")], str(info))
    with pytest.raises(InvalidArgument, match="not a shared or slave mount"):
        rootfs_propagation([parse_bind("/priv/x:/p:slave")], str(info))
    assert os.path.exists(str(info))
