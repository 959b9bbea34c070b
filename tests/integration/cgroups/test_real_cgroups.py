"""The cgroup manager on this machine's real hierarchies (hybrid here: v1 controllers + unified)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from sampan.runtime.cgroups import new_manager

pytestmark = pytest.mark.root

ROOT = "/sys/fs/cgroup"


def _proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("State:"):
                return line.split()[1]
    return "?"


class Cg:
    """The manager under test, its parent cgroup name, and the processes the test started."""

    def __init__(self) -> None:
        self.parent = f"sampan-test-{uuid.uuid4().hex[:8]}"
        self.m = new_manager(f"/{self.parent}/c", "c")
        self.procs: list[subprocess.Popen[bytes]] = []

    def sleeper(self) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(["/bin/sleep", "60"])
        self.procs.append(p)
        return p


@pytest.fixture
def cg() -> Iterator[Cg]:
    cg = Cg()
    m = cg.m
    try:
        yield cg
    finally:
        for p in cg.procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        if m.state() == "frozen":
            m.thaw()
        m.destroy()
        for path in m.paths().values():
            top = os.path.dirname(path)
            if os.path.isdir(top):
                os.rmdir(top)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def test_lifecycle_on_real_hierarchies(cg: Cg) -> None:
    m, parent = cg.m, cg.parent
    assert not m.exists()
    m.create()
    assert m.exists()
    m.set({"memory": {"limit": 64 << 20, "swap": 96 << 20, "swappiness": 0},
           "cpu": {"shares": 512, "quota": 25000, "period": 100000, "cpus": "0"},
           "pids": {"limit": 32},
           "devices": [{"allow": False, "access": "rwm"}]})
    paths = m.paths()
    assert _read(f"{paths['memory']}/memory.limit_in_bytes") == str(64 << 20)
    assert _read(f"{paths['memory']}/memory.memsw.limit_in_bytes") == str(96 << 20)
    assert _read(f"{paths['cpu']}/cpu.shares") == "512"
    assert _read(f"{paths['cpu']}/cpu.cfs_quota_us") == "25000"
    assert _read(f"{paths['cpuset']}/cpuset.cpus") == "0"
    assert _read(f"{paths['pids']}/pids.max") == "32"
    assert "c 1:3 rwm" in _read(f"{paths['devices']}/devices.list")

    p = cg.sleeper()
    m.apply(p.pid)
    assert m.pids() == [p.pid]
    with open(f"/proc/{p.pid}/cgroup") as f:
        text = f.read()
    assert f"memory:/{parent}/c" in text and f"0::/{parent}/c" in text

    m.freeze()
    assert m.state() == "frozen"
    assert _proc_state(p.pid) == "D"  # the v1 freezer parks tasks in D state
    m.thaw()
    assert m.state() == "thawed"
    assert _proc_state(p.pid) in ("S", "R")

    stats = m.stats()
    assert stats["pids_stats"] == {"current": 1, "limit": 32}
    assert stats["memory_stats"]["limit"] == 64 << 20
    assert len(stats["cpu_stats"]["cpu_usage"]["percpu_usage"]) == os.cpu_count()

    m.kill_all(signal.SIGKILL)
    p.wait(timeout=5)
    m.destroy()
    assert not m.exists()


def test_pid_limit_is_enforced(cg: Cg) -> None:
    m = cg.m
    m.create()
    m.set({"pids": {"limit": 2}})
    # A shell that joins the cgroup, then tries to start 3 background sleeps: one must fail.
    script = "read _; for i in 1 2 3; do /bin/sleep 5 & done 2>/dev/null; wait; echo done"
    p = subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    cg.procs.append(p)
    m.apply(p.pid)
    assert p.stdin is not None
    p.stdin.write(b"go\n")
    p.stdin.flush()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(m.pids()) < 2:
        time.sleep(0.02)
    assert len(m.pids()) <= 2
    assert m.stats()["pids_stats"]["current"] <= 2
    m.kill_all(signal.SIGKILL)
    p.communicate(timeout=5)


def test_unified_only_v2_manager(cg: Cg) -> None:
    """Pure v2 behaviour on the cgroup2 mount (only core files and hugetlb live there)."""
    parent = cg.parent
    root = f"{ROOT}/unified"
    m = new_manager(f"/{parent}/v2", "v2", root=root, mode="v2")
    p = subprocess.Popen(["/bin/sleep", "60"])
    try:
        m.create()
        assert os.path.exists(f"{root}/{parent}/v2/cgroup.freeze")
        m.set({"pids": {"limit": 0}, "cpu": {"shares": 0}})  # absent controllers, unset values: fine
        m.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})
        assert _read(f"{root}/{parent}/v2/hugetlb.2MB.max") == "0"
        m.apply(p.pid)
        assert m.pids() == [p.pid]
        m.freeze()
        assert m.state() == "frozen"
        assert _proc_state(p.pid) == "S"  # v2 freezes tasks in an interruptible sleep
        with open(f"{root}/{parent}/v2/cgroup.events") as f:
            assert "frozen 1" in f.read()
        m.thaw()
        assert m.state() == "thawed"
        m.kill_all(signal.SIGKILL)
        p.wait(timeout=5)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        m.destroy()


def test_v2_device_policy_is_enforced_by_ebpf(cg: Cg) -> None:
    """On the cgroup2 mount the device rules become an attached eBPF program."""
    root = f"{ROOT}/unified"
    m = new_manager(f"/{cg.parent}/dev", "dev", root=root, mode="v2")
    script = "read _; echo x > /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null || echo zero-denied"
    p = subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    cg.procs.append(p)
    try:
        m.create()
        m.set({"devices": [{"allow": False, "access": "rwm"},
                           {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]},
              default_devices=False)
        m.apply(p.pid)
        out, err = p.communicate(b"go\n", timeout=10)
        assert out.split() == [b"null-ok", b"zero-denied"], err
        assert b"Operation not permitted" in err
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        m.destroy()
