"""docker stats from a fake cgroupfs and /proc: cgroup v1 and v2 give Docker's StatsJSON shape."""

from __future__ import annotations

import os

from sampan.daemon.containers import stats
from sampan.daemon.containers.stats import Host

CID = "c" * 64
MEMINFO = "MemTotal:        4000000 kB\nMemFree:         1000 kB\n"
PROC_STAT = "cpu  100 0 50 850 0 0 0 0 0 0\ncpu0 100 0 50 850 0 0 0 0 0 0\n"
NET_DEV = ("Inter-|   Receive                            |  Transmit\n"
           " face |bytes    packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls "
           "carrier compressed\n"
           "    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0 "
           "      0          0\n")


def _write(root: str, rel: str, text: str) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def _proc(root: str, cgroup: str, net_dev: str = NET_DEV) -> None:
    _write(root, "proc/42/cgroup", cgroup)
    _write(root, "proc/42/net/dev", net_dev)
    _write(root, "proc/stat", PROC_STAT)
    _write(root, "proc/meminfo", MEMINFO)


def _v1_tree(root: str) -> Host:
    g = f"sampan/{CID}"
    _proc(root, f"9:name=systemd:/\n8:pids:/{g}\n7:blkio:/{g}\n4:memory:/{g}\n2:cpuacct:/{g}\n1:cpu:/{g}\n0::/\n")
    cg = os.path.join(root, "cg")
    _write(cg, f"cpuacct/{g}/cpuacct.usage", "3000\n")
    _write(cg, f"cpuacct/{g}/cpuacct.usage_percpu", "1000 2000 \n")
    _write(cg, f"cpuacct/{g}/cpuacct.stat", "user 2\nsystem 1\n")
    _write(cg, f"cpu/{g}/cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 77\n")
    _write(cg, f"memory/{g}/memory.usage_in_bytes", "4096\n")
    _write(cg, f"memory/{g}/memory.max_usage_in_bytes", "8192\n")
    _write(cg, f"memory/{g}/memory.limit_in_bytes", str(64 << 20) + "\n")
    _write(cg, f"memory/{g}/memory.failcnt", "0\n")
    _write(cg, f"memory/{g}/memory.stat", "cache 0\nrss 4096\n")
    _write(cg, f"pids/{g}/pids.current", "2\n")
    _write(cg, f"pids/{g}/pids.max", "max\n")
    _write(cg, f"blkio/{g}/blkio.throttle.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 0\nTotal 512\n")
    return Host(cgroup_root=cg, proc=os.path.join(root, "proc"), online_cpus=2)


def _v2_tree(root: str, memory_max: str = "max") -> Host:
    g = f"sampan/{CID}"
    _proc(root, f"0::/{g}\n", NET_DEV + "  eth0:    1000      10    1    2    0     0          0         0      "
                                        "2000      20    3    4    0     0       0          0\n")
    cg = os.path.join(root, "cg")
    _write(cg, f"{g}/cgroup.controllers", "cpu io memory pids\n")
    _write(cg, f"{g}/cpu.stat", "usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 0\nnr_throttled 0\n"
                                "throttled_usec 0\n")
    _write(cg, f"{g}/memory.current", "12288\n")
    _write(cg, f"{g}/memory.max", memory_max + "\n")
    _write(cg, f"{g}/memory.stat", "anon 8192\nfile 4096\n")
    _write(cg, f"{g}/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")
    _write(cg, f"{g}/pids.current", "1\n")
    _write(cg, f"{g}/pids.max", "100\n")
    _write(cg, f"{g}/io.stat", "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n")
    return Host(cgroup_root=cg, proc=os.path.join(root, "proc"), online_cpus=2)


def test_cgroup_dirs_v1_hybrid_and_v2(tmp_path: object) -> None:
    root = str(tmp_path)
    host = _v1_tree(root)
    dirs = stats.cgroup_dirs(42, host)
    assert dirs["memory"] == os.path.join(host.cgroup_root, "memory", "sampan", CID)
    assert dirs[""] == os.path.join(host.cgroup_root, "unified")  # hybrid: the v2 tree is mounted there
    assert dirs["systemd"] == os.path.join(host.cgroup_root, "systemd")


def test_v1_sample_has_dockers_fields(tmp_path: object) -> None:
    host = _v1_tree(str(tmp_path))
    out = stats.sample(42, "/web", CID, host)
    assert out["name"] == "/web" and out["id"] == CID
    assert out["read"] != stats.ZERO_READ and out["preread"] == stats.ZERO_READ
    cpu = out["cpu_stats"]
    assert cpu["cpu_usage"] == {"total_usage": 3000, "percpu_usage": [1000, 2000],
                                "usage_in_kernelmode": 1 * 1_000_000_000 // stats._CLK_TCK,
                                "usage_in_usermode": 2 * 1_000_000_000 // stats._CLK_TCK}
    assert cpu["throttling_data"] == {"periods": 5, "throttled_periods": 1, "throttled_time": 77}
    assert cpu["system_cpu_usage"] == 1000 * 1_000_000_000 // stats._CLK_TCK and cpu["online_cpus"] == 2
    # failcnt 0 is omitted, as Go's omitempty does
    assert out["memory_stats"] == {"usage": 4096, "max_usage": 8192, "stats": {"cache": 0, "rss": 4096},
                                   "limit": 64 << 20}
    assert out["pids_stats"] == {"current": 2}  # no limit: omitted
    assert out["blkio_stats"]["io_service_bytes_recursive"] == [
        {"major": 8, "minor": 0, "op": "Read", "value": 512}, {"major": 8, "minor": 0, "op": "Write", "value": 0}]
    assert out["blkio_stats"]["sectors_recursive"] is None
    assert out["num_procs"] == 0 and out["storage_stats"] == {}
    assert "networks" not in out  # loopback only


def test_v2_sample(tmp_path: object) -> None:
    host = _v2_tree(str(tmp_path))
    out = stats.sample(42, "/web", CID, host)
    usage = out["cpu_stats"]["cpu_usage"]
    assert usage == {"total_usage": 30_000, "usage_in_kernelmode": 10_000, "usage_in_usermode": 20_000}
    mem = out["memory_stats"]
    assert mem == {"usage": 12288, "stats": {"anon": 8192, "file": 4096}, "limit": 4000000 * 1024}
    assert out["pids_stats"] == {"current": 1, "limit": 100}
    assert out["blkio_stats"]["io_service_bytes_recursive"] == [
        {"major": 8, "minor": 0, "op": "read", "value": 4096}, {"major": 8, "minor": 0, "op": "write", "value": 0}]
    assert out["networks"] == {"eth0": {"rx_bytes": 1000, "rx_packets": 10, "rx_errors": 1, "rx_dropped": 2,
                                        "tx_bytes": 2000, "tx_packets": 20, "tx_errors": 3, "tx_dropped": 4}}


def test_v2_memory_limit_below_machine_memory(tmp_path: object) -> None:
    host = _v2_tree(str(tmp_path), memory_max=str(64 << 20))
    assert stats.sample(42, host=host)["memory_stats"]["limit"] == 64 << 20


def test_vanished_process_gives_zero_counters(tmp_path: object) -> None:
    host = Host(cgroup_root=str(tmp_path), proc=str(tmp_path), online_cpus=1)
    out = stats.sample(7, "/gone", CID, host)
    assert out["memory_stats"] == {} and out["pids_stats"] == {}
    assert out["cpu_stats"]["cpu_usage"]["total_usage"] == 0


def test_empty_stats_is_gos_zero_value() -> None:
    out = stats.empty_stats("/x", CID)
    assert out["read"] == out["preread"] == stats.ZERO_READ
    assert out["cpu_stats"] == {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                                "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    assert out["memory_stats"] == {} and out["pids_stats"] == {} and out["name"] == "/x" and out["id"] == CID
    assert set(out["blkio_stats"]) == set(stats._BLKIO_KEYS) and not any(out["blkio_stats"].values())
