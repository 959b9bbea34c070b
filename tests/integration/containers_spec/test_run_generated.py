"""Generated specs run for real: runc and sampan-runtime both see what Docker's containers see."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest

from sampan.daemon.containers.defaults import DEFAULT_CAPABILITIES
from sampan.linux.caps import mask

pytestmark = pytest.mark.root

Run = Callable[..., Any]


def _ok(res: Any) -> str:
    assert res.rc == 0, f"rc={res.rc} out={res.out!r} err={res.err!r}"
    return str(res.out)


def test_user_and_groups(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["id"], "User": "u1"}, {"GroupAdd": ["nogroup"]}))
    uid, gid, groups = out.split()
    assert (uid, gid) == ("uid=1000(u1)", "gid=1000(u1)")
    assert sorted(groups.removeprefix("groups=").split(",")) == ["10(wheel)", "1000(u1)", "65534(nogroup)"]
    assert _ok(run_container({"Cmd": ["id", "-u"]})).strip() == "0"


def test_hostname_env_and_etc_files(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["sh", "-c", "hostname; cat /etc/hosts /etc/hostname; echo $HOSTNAME; pwd"],
                             "Hostname": "box", "WorkingDir": "/tmp"}, hosts="10.0.0.9\tbox\n"))
    assert out.splitlines() == ["box", "10.0.0.9\tbox", "box", "box", "/tmp"]


def test_default_capabilities_and_seccomp(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["grep", "-E", "^(CapEff|CapBnd|Seccomp|NoNewPrivs):", "/proc/self/status"]}))
    fields = dict(line.split(":\t") for line in out.splitlines())
    want = f"{mask(list(DEFAULT_CAPABILITIES)):016x}"
    assert fields["CapEff"] == want and fields["CapBnd"] == want
    assert fields["Seccomp"] == "2" and fields["NoNewPrivs"] == "0"


def test_cap_add_drop_and_no_new_privileges(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["grep", "-E", "^(CapEff|NoNewPrivs|Seccomp):", "/proc/self/status"]},
                            {"CapDrop": ["ALL"], "CapAdd": ["chown", "CAP_KILL"],
                             "SecurityOpt": ["no-new-privileges", "seccomp=unconfined"]}))
    fields = dict(line.split(":\t") for line in out.splitlines())
    assert fields["CapEff"] == f"{mask(['CAP_CHOWN', 'CAP_KILL']):016x}"
    assert fields["NoNewPrivs"] == "1" and fields["Seccomp"] == "0"


def test_seccomp_blocks_mount_without_sys_admin(run_container: Run) -> None:
    res = run_container({"Cmd": ["sh", "-c", "mkdir /m && mount -t tmpfs none /m && echo mounted"]})
    assert res.rc != 0 and "mounted" not in res.out


def test_readonly_rootfs(run_container: Run) -> None:
    res = run_container({"Cmd": ["sh", "-c", "touch /x 2>&1; echo rc=$?; touch /tmp2/y && echo tmpfs-ok"]},
                        {"ReadonlyRootfs": True, "Tmpfs": {"/tmp2": ""}})
    assert "Read-only file system" in res.out and "rc=1" in res.out
    assert "tmpfs-ok" in res.out


def test_bind_mounts(run_container: Run, tmp_path: Any) -> None:
    src = tmp_path / "shared"
    src.mkdir()
    (src / "hello").write_text("from the host\n")
    made = tmp_path / "created-by-binds"
    res = run_container({"Cmd": ["sh", "-c", "cat /data/hello; touch /data/x 2>&1 || echo ro; touch /new/y"]},
                        {"Binds": [f"{src}:/data:ro", f"{made}:/new"]})
    assert "from the host" in res.out and "ro" in res.out
    assert (made / "y").exists()


def test_memory_and_pids_limits(run_container: Run) -> None:
    script = ("for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max "
              "/sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do test -f $f && cat $f; done; true")
    out = _ok(run_container({"Cmd": ["sh", "-c", script]}, {"Memory": 64 << 20, "PidsLimit": 42}))
    assert str(64 << 20) in out.split()
    assert "42" in out.split()


def test_shm_and_default_mounts(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["sh", "-c", "grep -E ' /dev/shm | /proc | /sys ' /proc/mounts"]},
                            {"ShmSize": 8 << 20}))
    lines = {line.split()[1]: line.split() for line in out.splitlines()}
    assert lines["/dev/shm"][2] == "tmpfs" and "size=8192k" in lines["/dev/shm"][3]
    assert lines["/sys"][3].startswith("ro,")


def test_network_none_has_only_loopback(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["sh", "-c", "ls /sys/class/net"]}, {"NetworkMode": "none"}))
    assert out.split() == ["lo"]


def test_env_and_terminal_off(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["env"], "Env": ["A=1"]}))
    env = dict(line.split("=", 1) for line in out.splitlines())
    assert env["A"] == "1" and env["PATH"].startswith("/usr/local/sbin") and "TERM" not in env
    assert os.path.exists("/proc/self")


def test_privileged(run_container: Run) -> None:
    with open("/proc/self/status") as f:
        own = next(line.split()[1] for line in f if line.startswith("CapBnd:"))
    out = _ok(run_container({"Cmd": ["sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status; "
                                                 "mkdir /m && mount -t tmpfs none /m && echo mounted; "
                                                 "test -c /dev/fuse && echo fuse"]},
                            {"Privileged": True}))
    fields = dict(line.split(":\t") for line in out.splitlines() if ":\t" in line)
    assert fields["CapEff"] == own and fields["Seccomp"] == "0"
    assert "mounted" in out and "fuse" in out


def test_device_mapping(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["sh", "-c", "echo hi > /dev/mynull && echo wrote; "
                                                 "cat /dev/fuse 2>&1; ls -l /dev/mynull"]},
                            {"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull",
                                          "CgroupPermissions": "rwm"}]}))
    assert "wrote" in out and "1,   3" in out
    assert "/dev/fuse" in out  # not in the container: no such node


def test_sysctl_and_ulimit(run_container: Run) -> None:
    out = _ok(run_container({"Cmd": ["sh", "-c", "cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ping_group_range; "
                                                 "ulimit -n"]},
                            {"Sysctls": {"kernel.shmmni": "1234"},
                             "Ulimits": [{"Name": "nofile", "Soft": 512, "Hard": 1024}]}))
    assert out.split() == ["1234", "0", "2147483647", "512"]


def test_init_is_pid_one(run_container: Run) -> None:
    init = shutil.which("docker-init") or shutil.which("tini-static")
    if not init:
        pytest.fail("no static init: tini-static comes from Debian's tini package (scripts/install.sh)")
    out = _ok(run_container({"Cmd": ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$"]},
                            {"Init": True}, init_path=init))
    first, pid = out.splitlines()
    assert first.startswith("/sbin/docker-init -- sh -c") and pid != "1"
