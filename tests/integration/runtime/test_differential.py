"""The same bundle under runc and sampan-runtime: what the container sees must match."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.runtime.conftest import Bundle, Runtime

pytestmark = pytest.mark.root

PROBE = r"""
echo "hostname=$(hostname)"
echo "id=$(id)"
echo "umask=$(umask)"
echo "cwd=$(pwd)"
echo "home=$HOME"
echo "env_foo=$FOO"
grep -E '^(Cap|NoNewPrivs|Seccomp:|SigIgn|SigBlk)' /proc/self/status
echo "oom=$(cat /proc/self/oom_score_adj)"
cat /proc/self/limits
echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
echo "mem_limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
echo "pids_max=$(cat /sys/fs/cgroup/pids/pids.max)"
for ns in pid net mnt ipc uts cgroup user; do echo "ns_$ns=$(readlink /proc/self/ns/$ns)"; done
ls -l /dev | grep -v total | while read -r mode links o g rest; do echo "dev $mode $o $g ${rest##* }"; done
echo "touch_root=$(touch /x 2>/dev/null && echo ok || echo denied)"
echo "touch_tmp=$(touch /tmp/x 2>/dev/null && echo ok || echo denied)"
echo "masked_kcore=$(stat -c %s /proc/kcore)"
echo "mkdir=$(mkdir /tmp/sc 2>&1)"
echo "---mountinfo"
cat /proc/self/mountinfo
"""


def _edit(tmp: str) -> Callable[[dict[str, Any]], None]:
    data = os.path.join(tmp, "shared-data")
    os.makedirs(data, exist_ok=True)

    def edit(spec: dict[str, Any]) -> None:
        proc = spec["process"]
        proc["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 0o027}
        proc["env"].append("FOO=bar")
        proc["cwd"] = "/tmp"
        caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
        proc["capabilities"] = {"bounding": [*caps, "CAP_SYS_ADMIN"], "effective": caps, "permitted": caps,
                                "inheritable": caps[:2], "ambient": caps[:1]}
        proc["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512},
                           {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
                           {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600}]
        proc["noNewPrivileges"] = True
        proc["oomScoreAdj"] = 500
        spec["hostname"] = "difftest"
        spec["domainname"] = "example.org"
        spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev", "mode=1777", "size=1m"]})
        spec["mounts"].append({"destination": "/data", "type": "bind", "source": data,
                               "options": ["rbind", "ro", "nosuid"]})
        spec["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        spec["linux"]["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 100},
                                      "devices": [{"allow": False, "access": "rwm"}]}
        spec["linux"]["namespaces"].append({"type": "cgroup"})
        spec["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
        spec["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                     "fileMode": 0o640, "uid": 0, "gid": 10}]

    return edit


def _normalise(out: str) -> tuple[list[str], set[tuple[str, ...]]]:
    head, _, mountinfo = out.partition("---mountinfo\n")
    mounts: set[tuple[str, ...]] = set()
    for line in mountinfo.splitlines():
        pre, _, post = line.partition(" - ")
        fields = pre.split()
        fstype, _src, superopts = (*post.split(), "", "")[:3]
        # superblock options carry host-specific values (tmpfs inode counts); keep the stable ones
        keep = ",".join(o for o in superopts.split(",") if not o.startswith(("inode", "nr_inodes")))
        mounts.add((fields[4], fstype, fields[5], keep))
    lines = [ln for ln in head.splitlines() if not ln.startswith("ns_")]
    return lines, mounts


def test_same_view_as_runc(make_bundle: Callable[..., Bundle], sampan: Runtime, runc: Runtime,
                           tmp_path: Any) -> None:
    edit = _edit(str(tmp_path))
    results = {}
    for rt in (runc, sampan):
        b = make_bundle(["sh", "-c", PROBE], edit)
        res = rt("run", "-b", b.path, f"diff-{rt.name}")
        assert res.returncode == 0, f"{rt.name}: {res.stderr.decode()}"
        results[rt.name] = res.stdout.decode()
    runc_lines, runc_mounts = _normalise(results["runc"])
    ours_lines, our_mounts = _normalise(results["sampan-runtime"])
    assert ours_lines == runc_lines, "\n".join(difflib.unified_diff(runc_lines, ours_lines, lineterm=""))
    assert our_mounts == runc_mounts
    assert "hostname=difftest" in ours_lines and "id=uid=1000(user) gid=1000 groups=10,20" in ours_lines
    assert "Seccomp:\t2" in ours_lines and "mkdir=mkdir: can't create directory '/tmp/sc': Operation not permitted" \
        in ours_lines
    assert "mem_limit=67108864" in ours_lines and "touch_root=denied" in ours_lines


def test_namespaces_differ_from_host(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["sh", "-c", "for ns in pid net mnt ipc uts; do readlink /proc/self/ns/$ns; done"])
    out = sampan.ok("run", "-b", b.path, "ns").split()
    host = [os.readlink(f"/proc/self/ns/{ns}") for ns in ("pid", "net", "mnt", "ipc", "uts")]
    assert len(out) == 5
    for theirs, ours in zip(out, host, strict=True):
        assert theirs != ours


def test_user_namespace(make_bundle: Callable[..., Bundle], sampan: Runtime, runc: Runtime,
                        open_dir: str) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        spec["root"]["readonly"] = False

    probe = "id; cat /proc/self/uid_map; cat /proc/self/gid_map; ls -ln /dev/null; echo ok"
    outs = {}
    for rt in (runc, sampan):
        b = make_bundle(["sh", "-c", probe], edit, base=open_dir)
        res = rt("run", "-b", b.path, f"userns-{rt.name}")
        assert res.returncode == 0, f"{rt.name}: {res.stderr.decode()}"
        outs[rt.name] = res.stdout.decode().split()
    assert outs["sampan-runtime"] == outs["runc"]
    assert "200000" in outs["sampan-runtime"]


def test_join_namespace_by_path_no_pivot_personality(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    first = make_bundle(["sleep", "100"])
    sampan.ok("run", "-d", "-b", first.path, "owner")
    pid = sampan.state("owner")["pid"]

    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["namespaces"] = [{"type": "network", "path": f"/proc/{pid}/ns/net"},
                                       {"type": "uts", "path": f"/proc/{pid}/ns/uts"},
                                       {"type": "mount"}, {"type": "pid"}]
        spec.pop("hostname")
        spec["linux"]["personality"] = {"domain": "LINUX32"}

    b = make_bundle(["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname; "
                                 "readlink /proc/1/exe; cat /proc/self/personality 2>/dev/null; uname -m"], edit)
    out = sampan.ok("run", "--no-pivot", "-b", b.path, "joiner").split()
    assert out[0] == os.readlink(f"/proc/{pid}/ns/net") and out[1] == os.readlink(f"/proc/{pid}/ns/uts")
    assert out[2] == "sampan"
    assert out[-1] in ("i686", "i386", "armv7l", "armv8l")


DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
               "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
               "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def test_docker_like_config(make_bundle: Callable[..., Bundle], sampan: Runtime, tmp_path: Any) -> None:
    """What the daemon generates: file binds for hosts/resolv.conf, Docker's caps and seccomp profile."""
    import json

    files = {}
    for name, text in (("hosts", "127.0.0.1 localhost\n"), ("resolv.conf", "nameserver 10.0.0.1\n"),
                       ("hostname", "abc123\n")):
        files[name] = tmp_path / name
        files[name].write_text(text)
    with open("/work/shared/specs/docker-defaults/seccomp-default.json") as f:
        docker_profile = json.load(f)

    def edit(spec: dict[str, Any]) -> None:
        spec["process"]["capabilities"] = {k: DOCKER_CAPS for k in ("bounding", "effective", "permitted")}
        spec["process"]["noNewPrivileges"] = False
        spec["hostname"] = "abc123"
        spec["root"]["readonly"] = False
        for name, path in files.items():
            spec["mounts"].append({"destination": f"/etc/{name}", "type": "bind", "source": str(path),
                                   "options": ["rbind", "rprivate"]})
        spec["linux"]["seccomp"] = docker_profile
        spec["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}],
                                      "memory": {"limit": 128 * 1024 * 1024}}

    b = make_bundle(["sh", "-c", "cat /etc/hosts /etc/resolv.conf; hostname; grep -E '^(CapBnd|Seccomp):' "
                                 "/proc/self/status; echo x > /dev/null && echo devnull-ok"], edit)
    out = sampan.ok("run", "-b", b.path, "dockerlike").splitlines()
    assert out[:3] == ["127.0.0.1 localhost", "nameserver 10.0.0.1", "abc123"]
    assert out[3] == "CapBnd:\t00000000a80425fb" and out[4] == "Seccomp:\t2" and out[5] == "devnull-ok"
    b2 = make_bundle(["sleep", "100"], edit)
    sampan.ok("run", "-d", "-b", b2.path, "dockerlike-exec")
    out = sampan.ok("exec", "dockerlike-exec", "grep", "-E", "^(CapBnd|Seccomp):", "/proc/self/status").split()
    assert out == ["CapBnd:", "00000000a80425fb", "Seccomp:", "2"]
    sampan.ok("delete", "-f", "dockerlike-exec")


def test_exec_into_user_namespace(make_bundle: Callable[..., Bundle], sampan: Runtime, open_dir: str) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 65536}]

    b = make_bundle(["sleep", "100"], edit, base=open_dir)
    sampan.ok("run", "-d", "-b", b.path, "userns-exec")
    out = sampan.ok("exec", "userns-exec", "sh", "-c", "id; cat /proc/self/uid_map; readlink /proc/1/exe")
    assert out.split() == ["uid=0(root)", "gid=0", "0", "300000", "65536", "/bin/busybox"]
    sampan.ok("delete", "-f", "userns-exec")


def test_exec_same_as_runc(make_bundle: Callable[..., Bundle], sampan: Runtime, runc: Runtime) -> None:
    probe = ("id; pwd; echo $FOO; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; "
             "cat /proc/self/limits | grep 'open files'; readlink /proc/self/ns/pid")
    outs = {}
    for rt in (runc, sampan):
        b = make_bundle(["sleep", "100"])
        rt.ok("run", "-d", "-b", b.path, f"ex-{rt.name}")
        out = rt.ok("exec", "--user", "1000:1000", "--cwd", "/tmp", "--env", "FOO=bar", "--cap", "CAP_NET_ADMIN",
                    f"ex-{rt.name}", "sh", "-c", probe).splitlines()
        init_pid = rt.state(f"ex-{rt.name}")["pid"]
        assert out[-1] == os.readlink(f"/proc/{init_pid}/ns/pid")
        outs[rt.name] = out[:-1]
        rt.ok("delete", "-f", f"ex-{rt.name}")
    assert outs["sampan-runtime"] == outs["runc"]
