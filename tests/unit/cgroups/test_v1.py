from __future__ import annotations

import os

import pytest

from sampan import errdefs
from sampan.runtime.cgroups import CgroupManager, new_manager
from sampan.runtime.cgroups.devices import DEFAULT_ALLOWED, v1_rules

from .fakecgroupfs import make_v1, read

INNER = "/sampan/c1"


@pytest.fixture
def v1(tmp_path: os.PathLike[str]) -> tuple[str, CgroupManager]:
    root = str(tmp_path)
    make_v1(root, INNER, ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
                          "systemd"))
    return root, new_manager(INNER, "c1", root=root, mode="v1")


def leaf(root: str, ctrl: str, name: str) -> str:
    return read(os.path.join(root, ctrl, "sampan/c1", name))


def test_create_copies_cpuset_from_parent(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    m.create()
    assert read(f"{root}/cpuset/sampan/cpuset.cpus") == "0-3"
    assert leaf(root, "cpuset", "cpuset.cpus") == "0-3"
    assert leaf(root, "cpuset", "cpuset.mems") == "0"
    assert m.exists()


def test_apply_writes_every_hierarchy(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    m.apply(4242)
    for ctrl in ("cpu", "memory", "pids", "freezer", "systemd"):
        assert leaf(root, ctrl, "cgroup.procs") == "4242"
    assert "" not in m.paths()


def test_set_memory_cpu_pids(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    m.set({
        "memory": {"limit": 64 << 20, "swap": 128 << 20, "reservation": 32 << 20, "swappiness": 10,
                   "disableOOMKiller": True, "kernel": 1 << 20},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0",
                "realtimeRuntime": 950, "realtimePeriod": 1000, "idle": 1},
        "pids": {"limit": 100},
    })
    assert leaf(root, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert leaf(root, "memory", "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert leaf(root, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert leaf(root, "memory", "memory.swappiness") == "10"
    assert leaf(root, "memory", "memory.oom_control") == "1"
    assert leaf(root, "cpu", "cpu.shares") == "1024"
    assert leaf(root, "cpu", "cpu.cfs_quota_us") == "50000"
    assert leaf(root, "cpu", "cpu.cfs_period_us") == "100000"
    assert leaf(root, "cpu", "cpu.rt_runtime_us") == "950"
    assert leaf(root, "cpu", "cpu.rt_period_us") == "1000"
    assert leaf(root, "cpu", "cpu.idle") == "1"
    assert leaf(root, "cpuset", "cpuset.cpus") == "0-1"
    assert leaf(root, "pids", "pids.max") == "100"


def test_unlimited_values(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    m.set({"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}})
    assert leaf(root, "memory", "memory.limit_in_bytes") == "-1"
    assert leaf(root, "memory", "memory.memsw.limit_in_bytes") == "-1"
    assert leaf(root, "pids", "pids.max") == "max"
    assert leaf(root, "cpu", "cpu.cfs_quota_us") == "-1"


def test_missing_controller_set_value_is_an_error(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    make_v1(root, INNER, ("memory",))
    m = new_manager(INNER, "c1", root=root, mode="v1")
    m.set({"pids": {"limit": 0}, "cpu": {"shares": 0}, "blockIO": {}})  # unset values: fine
    with pytest.raises(errdefs.InvalidArgument, match="pids cgroup controller is not available"):
        m.set({"pids": {"limit": 10}})


def test_write_error_names_path_and_value(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    os.remove(os.path.join(root, "pids/sampan/c1/pids.max"))
    with pytest.raises(errdefs.System) as info:
        m.set({"pids": {"limit": 7}})
    assert "pids.max" in str(info.value) and "'7'" in str(info.value)


def test_blkio(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    m.set({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                       "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 10}]}})
    assert leaf(root, "blkio", "blkio.throttle.read_bps_device") == "8:0 1048576"
    assert leaf(root, "blkio", "blkio.throttle.write_iops_device") == "8:16 10"
    with pytest.raises(errdefs.InvalidArgument, match=r"blkio\.weight"):
        m.set({"blockIO": {"weight": 500}})  # no CFQ/BFQ weight files, like this machine


def test_devices(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    rules = [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 10, "minor": 200,
                                                 "access": "rwm"}]
    assert v1_rules(rules) == [(False, "a"), (True, "c 10:200 rwm")]
    assert v1_rules([{"allow": True, "type": "c", "major": 136, "access": ""}]) == [(True, "c 136:* rwm")]
    m.set({"devices": rules})
    assert leaf(root, "devices", "devices.deny") == "a"
    assert leaf(root, "devices", "devices.allow") == "c 5:2 rwm"  # last of runc's defaults
    m.set({"devices": rules}, default_devices=False)
    assert leaf(root, "devices", "devices.allow") == "c 10:200 rwm"
    assert len(DEFAULT_ALLOWED) == 10


def test_network_and_unified_on_v1(v1: tuple[str, CgroupManager]) -> None:
    _root, m = v1
    m.set({"network": {"classID": 5, "priorities": [{"name": "eth0", "priority": 1}]}})  # ignored
    with pytest.raises(errdefs.InvalidArgument, match="cgroup v2"):
        m.set({"unified": {"memory.high": "1G"}})


def test_freeze_thaw_state(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    assert m.state() == "thawed"
    m.freeze()
    assert leaf(root, "freezer", "freezer.state") == "FROZEN"
    assert m.state() == "frozen"
    m.thaw()
    assert m.state() == "thawed"


def test_pids_walks_subcgroups(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    with open(os.path.join(root, "pids/sampan/c1/cgroup.procs"), "w") as f:
        f.write("10\n12\n")
    os.makedirs(os.path.join(root, "pids/sampan/c1/sub"))
    with open(os.path.join(root, "pids/sampan/c1/sub/cgroup.procs"), "w") as f:
        f.write("11\n")
    assert m.pids() == [10, 11, 12]


def test_stats(v1: tuple[str, CgroupManager]) -> None:
    _root, m = v1
    st = m.stats()
    assert st["cpu_stats"]["cpu_usage"] == {"total_usage": 3000, "percpu_usage": [1000, 2000],
                                            "usage_in_kernelmode": 1200, "usage_in_usermode": 1800}
    assert st["cpu_stats"]["throttling_data"] == {"periods": 7, "throttled_periods": 2, "throttled_time": 5000}
    mem = st["memory_stats"]
    assert (mem["usage"], mem["max_usage"], mem["limit"], mem["failcnt"]) == (4096, 8192, None, 0)
    assert mem["stats"]["total_inactive_file"] == 5
    assert st["pids_stats"] == {"current": 3, "limit": None}
    assert st["blkio_stats"]["io_service_bytes_recursive"] == [
        {"major": 8, "minor": 0, "op": "Read", "value": 100}, {"major": 8, "minor": 0, "op": "Write", "value": 200}]


def test_destroy_removes_empty_dirs_only_bottom_up(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    for ctrl in ("memory", "pids"):
        os.makedirs(os.path.join(root, ctrl, "sampan/c1/sub"))
    m = new_manager(INNER, "c1", root=root, mode="v1")
    assert m.exists()
    m.destroy()
    assert not m.exists()
    assert os.path.isdir(os.path.join(root, "memory/sampan"))  # parents stay
    m.destroy()  # idempotent


def test_kill_all_keeps_a_paused_cgroup_paused(v1: tuple[str, CgroupManager]) -> None:
    root, m = v1
    m.freeze()
    m.kill_all(0)  # no pids listed in the fake: only the freezer dance is observable
    assert leaf(root, "freezer", "freezer.state") == "FROZEN"
    m.kill_all(9)
    assert leaf(root, "freezer", "freezer.state") == "THAWED"
