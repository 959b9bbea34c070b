from __future__ import annotations

import os

import pytest

from sampan.daemon.containers.spec import apply_host_defaults, generate_spec
from sampan.daemon.containers.spec_resources import custom_devices, resources
from sampan.errdefs import InvalidArgument

MB = 1 << 20


@pytest.mark.parametrize(("hc", "want"), [
    ({}, {}),
    ({"Memory": 64 * MB}, {"memory": {"limit": 64 * MB, "swap": 128 * MB}}),
    ({"Memory": 64 * MB, "MemorySwap": -1}, {"memory": {"limit": 64 * MB}}),
    ({"Memory": 64 * MB, "MemorySwap": 100 * MB, "MemoryReservation": 32 * MB, "OomKillDisable": True,
      "MemorySwappiness": 10},
     {"memory": {"limit": 64 * MB, "reservation": 32 * MB, "swap": 100 * MB, "swappiness": 10,
                 "disableOOMKiller": True}}),
    ({"NanoCpus": 1_500_000_000}, {"cpu": {"quota": 150000, "period": 100000}}),
    ({"NanoCpus": 10_000_000}, {"cpu": {"quota": 1000, "period": 100000}}),
    ({"CpuQuota": 50000, "CpuPeriod": 200000, "CpuShares": 512, "CpusetCpus": "0-1", "CpusetMems": "0"},
     {"cpu": {"shares": 512, "quota": 50000, "period": 200000, "cpus": "0-1", "mems": "0"}}),
    ({"CpuShares": 1}, {"cpu": {"shares": 2}}),
    ({"PidsLimit": 100}, {"pids": {"limit": 100}}),
    ({"PidsLimit": -1}, {}),
    ({"PidsLimit": 0}, {}),
])
def test_resources(hc: dict, want: dict) -> None:
    assert resources(hc, blkio_weight_supported=True) == want


def test_blkio_weight() -> None:
    assert resources({"BlkioWeight": 300}, blkio_weight_supported=True) == {"blockIO": {"weight": 300}}
    assert resources({"BlkioWeight": 300}, blkio_weight_supported=False) == {}


def test_apply_host_defaults() -> None:
    assert apply_host_defaults({"Memory": 10 * MB}) == {"Memory": 10 * MB, "MemorySwap": 20 * MB, "ShmSize": 64 * MB}
    assert apply_host_defaults({"ShmSize": 5}) == {"ShmSize": 5}


def test_spec_resources_and_cgroups_path(make_inputs) -> None:
    linux = generate_spec(make_inputs(host_config={"Memory": 64 * MB, "PidsLimit": 20}))["linux"]
    assert linux["resources"]["memory"] == {"limit": 64 * MB, "swap": 128 * MB}
    assert linux["resources"]["pids"] == {"limit": 20}
    assert linux["resources"]["devices"][0] == {"allow": False, "access": "rwm"}
    assert {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"} in linux["resources"]["devices"]
    assert linux["cgroupsPath"] == "/sampan/0123456789ab" + "c" * 52
    other = generate_spec(make_inputs(cgroup_parent="/x/y/"))["linux"]["cgroupsPath"]
    assert other == "/x/y/0123456789ab" + "c" * 52
    assert generate_spec(make_inputs(host_config={"CgroupParent": "mine"}))["linux"]["cgroupsPath"].startswith(
        "/mine/")


def test_rlimits_and_oom(make_inputs) -> None:
    proc = generate_spec(make_inputs(host_config={"Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200},
                                                              {"Name": "nproc", "Soft": 5, "Hard": 5}],
                                                  "OomScoreAdj": 500}))["process"]
    assert proc["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 200, "soft": 100},
                               {"type": "RLIMIT_NPROC", "hard": 5, "soft": 5}]
    assert proc["oomScoreAdj"] == 500
    assert "rlimits" not in generate_spec(make_inputs())["process"]
    with pytest.raises(InvalidArgument, match="invalid ulimit type: files"):
        generate_spec(make_inputs(host_config={"Ulimits": [{"Name": "files", "Soft": 1, "Hard": 1}]}))
    with pytest.raises(InvalidArgument, match="ulimit soft limit must be less than or equal to hard limit: 3 > 2"):
        generate_spec(make_inputs(host_config={"Ulimits": [{"Name": "nofile", "Soft": 3, "Hard": 2}]}))


def test_sysctls(make_inputs) -> None:
    linux = generate_spec(make_inputs(host_config={"Sysctls": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "9",
                                                               "fs.mqueue.msg_max": "20"}}))["linux"]
    assert linux["sysctl"] == {"net.ipv4.ip_unprivileged_port_start": "0",
                               "net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_forward": "1",
                               "kernel.shmmax": "9", "fs.mqueue.msg_max": "20"}
    assert "sysctl" not in generate_spec(make_inputs(host_config={"NetworkMode": "host"}))["linux"]
    with pytest.raises(InvalidArgument, match=r"sysctl 'kernel\.panic' is not whitelisted"):
        generate_spec(make_inputs(host_config={"Sysctls": {"kernel.panic": "1"}}))
    with pytest.raises(InvalidArgument, match=r'sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace'):
        generate_spec(make_inputs(host_config={"NetworkMode": "host", "Sysctls": {"net.ipv4.ip_forward": "1"}}))


def test_devices(make_inputs) -> None:
    st = os.stat("/dev/null")
    nodes, rules = custom_devices({"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull",
                                                "CgroupPermissions": "rw"}],
                                   "DeviceCgroupRules": ["c 42:* rmw", "b *:* m"]})
    assert nodes == [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": st.st_mode & 0o7777,
                      "uid": st.st_uid, "gid": st.st_gid}]
    assert rules == [{"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                     {"allow": True, "type": "c", "access": "rmw", "major": 42},
                     {"allow": True, "type": "b", "access": "m"}]
    linux = generate_spec(make_inputs(host_config={"Devices": [{"PathOnHost": "/dev/zero"}]}))["linux"]
    assert linux["devices"][0]["path"] == "/dev/zero"
    assert linux["resources"]["devices"][-1] == {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"}


@pytest.mark.parametrize(("hc", "message"), [
    ({"Devices": [{"PathOnHost": "/dev/nope"}]},
     'error gathering device information while adding custom device "/dev/nope": no such file or directory'),
    ({"Devices": [{"PathOnHost": "/etc/hostname"}]},
     'error gathering device information while adding custom device "/etc/hostname": not a device node'),
    ({"Devices": [{"PathOnHost": "/dev/null", "CgroupPermissions": "rwx"}]}, "invalid device mode: rwx"),
    ({"DeviceCgroupRules": ["c 1:3"]}, "invalid device cgroup rule format: 'c 1:3'"),
])
def test_bad_devices(hc: dict, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        custom_devices(hc)
    assert str(err.value) == message
