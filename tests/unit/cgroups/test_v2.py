from __future__ import annotations

import os

import pytest

from sampan import errdefs
from sampan.runtime.cgroups import CgroupManager, new_manager
from sampan.runtime.cgroups.v2 import blkio_to_io_weight, shares_to_weight, swap_max

from .fakecgroupfs import make_v1, make_v2, read

INNER = "/sampan/c2"


class Attached(list[tuple[str, bytes]]):
    """Records device programs instead of loading them with bpf(2)."""

    def __call__(self, cgroup_dir: str, program: bytes) -> None:
        self.append((cgroup_dir, program))


@pytest.fixture
def attached() -> Attached:
    return Attached()


@pytest.fixture
def v2(tmp_path: os.PathLike[str], attached: Attached) -> tuple[str, CgroupManager]:
    root = str(tmp_path)
    make_v2(root, INNER)
    return root, new_manager(INNER, "c2", root=root, mode="v2", attach_devices=attached)


def leaf(root: str, name: str) -> str:
    return read(os.path.join(root, "sampan/c2", name))


def test_conversions() -> None:
    assert shares_to_weight(2) == 1
    assert shares_to_weight(1024) == 39
    assert shares_to_weight(262144) == 10000
    assert blkio_to_io_weight(10) == 1
    assert blkio_to_io_weight(1000) == 10000
    assert swap_max(200, 100) == 100
    assert swap_max(100, 100) == 0
    assert swap_max(-1, 100) == -1
    assert swap_max(0, 100) is None
    assert swap_max(0, -1) == -1
    with pytest.raises(errdefs.InvalidArgument, match="without a memory limit"):
        swap_max(200, 0)
    with pytest.raises(errdefs.InvalidArgument, match=">= memory limit"):
        swap_max(50, 100)


def test_create_enables_controllers_in_parents(v2: tuple[str, CgroupManager]) -> None:
    root, m = v2
    m.create()
    assert read(os.path.join(root, "cgroup.subtree_control")).startswith("+")
    assert read(os.path.join(root, "sampan/cgroup.subtree_control")).startswith("+")
    assert leaf(root, "cgroup.subtree_control") == ""  # the leaf holds processes, delegates nothing
    assert m.paths() == {"": os.path.join(root, "sampan/c2")}


def test_set_all(v2: tuple[str, CgroupManager], attached: Attached) -> None:
    root, m = v2
    m.set({
        "memory": {"limit": 100 << 20, "swap": 300 << 20, "reservation": 50 << 20, "swappiness": 5},
        "cpu": {"shares": 1024, "quota": 20000, "period": 50000, "cpus": "1", "mems": "0", "burst": 10},
        "pids": {"limit": 0},
        "blockIO": {"weight": 1000, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}],
        "unified": {"memory.low": "123"},
        "devices": [{"allow": False, "access": "rwm"}],  # an eBPF program on v2
    })
    assert len(attached) == 1 and attached[0][0] == os.path.join(root, "sampan/c2")
    assert leaf(root, "memory.max") == str(100 << 20)
    assert leaf(root, "memory.swap.max") == str(200 << 20)
    assert leaf(root, "memory.low") == "123"  # unified wins, it is applied last
    assert leaf(root, "cpu.weight") == "39"
    assert leaf(root, "cpu.max") == "20000 50000"
    assert leaf(root, "cpu.max.burst") == "10"
    assert leaf(root, "cpuset.cpus") == "1"
    assert leaf(root, "pids.max") == "max"
    assert leaf(root, "io.weight") == "default 10000"
    assert leaf(root, "io.max") == "8:0 rbps=1000"
    assert leaf(root, "hugetlb.2MB.max") == str(4 << 20)


def test_cpu_max_forms(v2: tuple[str, CgroupManager]) -> None:
    root, m = v2
    m.set({"cpu": {"quota": -1, "period": 100000}})
    assert leaf(root, "cpu.max") == "max 100000"
    m.set({"cpu": {"quota": 5000}})
    assert leaf(root, "cpu.max") == "5000"
    m.set({"memory": {"limit": -1}})
    assert leaf(root, "memory.max") == "max"
    assert leaf(root, "memory.swap.max") == "max"


def test_realtime_refused(v2: tuple[str, CgroupManager]) -> None:
    _root, m = v2
    with pytest.raises(errdefs.InvalidArgument, match="realtime"):
        m.set({"cpu": {"realtimeRuntime": 1000}})


def test_unknown_unified_key(v2: tuple[str, CgroupManager]) -> None:
    _root, m = v2
    with pytest.raises(errdefs.InvalidArgument, match=r"memory\.nope"):
        m.set({"unified": {"memory.nope": "1"}})


def test_absent_controller(tmp_path: os.PathLike[str]) -> None:
    root = str(tmp_path)
    make_v2(root, INNER, ("memory",))
    m = new_manager(INNER, "c2", root=root, mode="v2")
    m.set({"pids": {"limit": 0}, "cpu": {"shares": 0, "quota": 0}})
    with pytest.raises(errdefs.InvalidArgument, match="cpu cgroup controller is not available"):
        m.set({"cpu": {"shares": 512}})


def test_freeze_apply_pids_kill_file(v2: tuple[str, CgroupManager]) -> None:
    root, m = v2
    m.apply(77)
    assert leaf(root, "cgroup.procs") == "77"
    assert m.pids() == [77]
    with open(os.path.join(root, "sampan/c2/cgroup.events"), "w") as f:
        f.write("populated 1\nfrozen 1\n")
    m.freeze()
    assert leaf(root, "cgroup.freeze") == "1"
    assert m.state() == "frozen"
    with open(os.path.join(root, "sampan/c2/cgroup.events"), "w") as f:
        f.write("populated 1\nfrozen 0\n")
    m.thaw()
    assert m.state() == "thawed"
    m.kill_all()
    assert leaf(root, "cgroup.kill") == "1"


def test_stats(v2: tuple[str, CgroupManager]) -> None:
    _root, m = v2
    st = m.stats()
    assert st["cpu_stats"]["cpu_usage"]["total_usage"] == 30000
    assert st["cpu_stats"]["throttling_data"]["throttled_time"] == 9000
    assert st["memory_stats"]["usage"] == 4096
    assert st["memory_stats"]["max_usage"] == 9000
    assert st["memory_stats"]["limit"] is None
    assert st["memory_stats"]["failcnt"] == 3
    assert st["pids_stats"] == {"current": 2, "limit": None}
    assert st["blkio_stats"]["io_serviced_recursive"] == [
        {"major": 8, "minor": 0, "op": "read", "value": 1}, {"major": 8, "minor": 0, "op": "write", "value": 2}]


def test_hybrid_routes_controllers(tmp_path: os.PathLike[str]) -> None:
    """Like this machine: v1 memory/pids/freezer, and a unified mount holding only hugetlb."""
    root = str(tmp_path)
    make_v1(root, INNER, ("memory", "pids", "freezer", "cpu"))
    make_v2(os.path.join(root, "unified"), INNER, ("hugetlb",))
    m = new_manager(INNER, "c2", root=root, mode="hybrid")
    m.create()
    m.apply(99)
    assert read(os.path.join(root, "unified/sampan/c2/cgroup.procs")) == "99"
    assert read(os.path.join(root, "memory/sampan/c2/cgroup.procs")) == "99"
    m.set({"memory": {"limit": 1 << 30}, "hugepageLimits": [{"pageSize": "1GB", "limit": 0}],
           "unified": {"hugetlb.2MB.max": "0"}})
    assert read(os.path.join(root, "memory/sampan/c2/memory.limit_in_bytes")) == str(1 << 30)
    assert read(os.path.join(root, "unified/sampan/c2/hugetlb.1GB.max")) == "0"
    assert read(os.path.join(root, "unified/sampan/c2/hugetlb.2MB.max")) == "0"
    with pytest.raises(errdefs.InvalidArgument, match=r"(io|blkio) cgroup"):
        m.set({"blockIO": {"weight": 100}})
    m.freeze()  # the v1 freezer is used when mounted
    assert read(os.path.join(root, "freezer/sampan/c2/freezer.state")) == "FROZEN"
    assert read(os.path.join(root, "unified/sampan/c2/cgroup.freeze")) == "0"
    assert set(m.stats()) == {"memory_stats", "pids_stats", "cpu_stats"}
