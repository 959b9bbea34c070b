"""A fake cgroupfs in a temp dir: the directories and control files a kernel would show."""

from __future__ import annotations

import os

V1_FILES: dict[str, dict[str, str]] = {
    "cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1",
            "cpu.cfs_burst_us": "0", "cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0",
            "cpu.idle": "0", "cpu.stat": "nr_periods 7\nnr_throttled 2\nthrottled_time 5000\n"},
    "cpuacct": {"cpuacct.usage": "3000", "cpuacct.usage_percpu": "1000 2000 ",
                "cpuacct.usage_user": "1800", "cpuacct.usage_sys": "1200", "cpuacct.stat": "user 1\nsystem 2\n"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "memory": {"memory.limit_in_bytes": "9223372036854771712",
               "memory.memsw.limit_in_bytes": "9223372036854771712", "memory.soft_limit_in_bytes": "",
               "memory.swappiness": "60", "memory.oom_control": "", "memory.usage_in_bytes": "4096",
               "memory.max_usage_in_bytes": "8192", "memory.failcnt": "0",
               "memory.stat": "cache 10\nrss 20\ntotal_inactive_file 5\n", "memory.use_hierarchy": "1"},
    "devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm"},
    "freezer": {"freezer.state": "THAWED"},
    "blkio": {"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
              "blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
              "blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 200\nTotal 300\n",
              "blkio.throttle.io_serviced_recursive": "8:0 Read 1\n8:0 Write 2\n"},
    "pids": {"pids.max": "max", "pids.current": "3"},
    "hugetlb": {"hugetlb.2MB.limit_in_bytes": "", "hugetlb.1GB.limit_in_bytes": ""},
    "systemd": {},
}
V2_CORE = {"cgroup.procs": "", "cgroup.freeze": "0", "cgroup.subtree_control": "",
           "cgroup.events": "populated 0\nfrozen 0\n", "cgroup.kill": ""}
V2_FILES: dict[str, dict[str, str]] = {
    "cpu": {"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
            "cpu.stat": "usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 4\nnr_throttled 1\n"
                        "throttled_usec 9\n"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "memory": {"memory.max": "max", "memory.swap.max": "max", "memory.low": "0", "memory.current": "4096",
               "memory.peak": "9000", "memory.stat": "anon 10\nfile 20\n", "memory.events": "max 3\n"},
    "pids": {"pids.max": "max", "pids.current": "2"},
    "io": {"io.weight": "default 100", "io.max": "", "io.stat": "8:0 rbytes=10 wbytes=20 rios=1 wios=2\n"},
    "hugetlb": {"hugetlb.2MB.max": "max", "hugetlb.1GB.max": "max"},
}


def write_files(path: str, files: dict[str, str]) -> None:
    os.makedirs(path, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(path, name), "w") as f:
            f.write(text)


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def make_v1(root: str, inner: str, controllers: tuple[str, ...] = tuple(V1_FILES)) -> None:
    """Each controller's hierarchy with every level down to `inner` pre-created (cpuset parent set)."""
    for ctrl in controllers:
        base = os.path.join(root, ctrl)
        files = dict(V1_FILES[ctrl], **{"cgroup.procs": "", "tasks": ""})
        write_files(base, files)
        current = base
        for part in inner.strip("/").split("/"):
            current = os.path.join(current, part)
            write_files(current, files)
        if ctrl == "cpuset":
            write_files(base, {"cpuset.cpus": "0-3", "cpuset.mems": "0"})


def make_v2(base: str, inner: str, controllers: tuple[str, ...] = tuple(V2_FILES)) -> None:
    """A unified hierarchy at `base` with `controllers` available at every level down to `inner`."""
    files: dict[str, str] = dict(V2_CORE, **{"cgroup.controllers": " ".join(controllers)})
    for ctrl in controllers:
        files.update(V2_FILES[ctrl])
    write_files(base, files)
    current = base
    for part in inner.strip("/").split("/"):
        current = os.path.join(current, part)
        write_files(current, files)
