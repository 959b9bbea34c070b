"""docker stats' arithmetic and table, without a daemon."""

from __future__ import annotations

from sampan.cli.formatter import render
from sampan.cli.stats import (
    DEFAULT_TABLE,
    HEADERS,
    Sample,
    StatsRow,
    block_io,
    bytes_size,
    cpu_percent,
    memory_usage,
    redraw,
)


def test_cpu_percent_is_container_over_host_delta_times_cpus() -> None:
    pre = {"cpu_usage": {"total_usage": 1_000}, "system_cpu_usage": 10_000}
    cur = {"cpu_usage": {"total_usage": 3_000}, "system_cpu_usage": 20_000, "online_cpus": 2}
    assert cpu_percent(pre, cur) == 40.0
    no_online = {"cpu_usage": {"total_usage": 3_000, "percpu_usage": [1, 2, 3, 4]}, "system_cpu_usage": 20_000}
    assert cpu_percent(pre, no_online) == 80.0
    assert cpu_percent(cur, pre) == 0.0  # counters going backwards are no usage
    assert cpu_percent({}, {}) == 0.0


def test_memory_usage_leaves_out_inactive_file_cache() -> None:
    assert memory_usage({"usage": 1000, "stats": {"total_inactive_file": 300, "inactive_file": 100}}) == 700
    assert memory_usage({"usage": 1000, "stats": {"inactive_file": 100}}) == 900  # cgroup v2
    assert memory_usage({"usage": 1000, "stats": {"total_inactive_file": 5000}}) == 1000
    assert memory_usage({}) == 0


def test_units_are_docker_s() -> None:
    assert bytes_size(0) == "0B"
    assert bytes_size(1536 * 1024) == "1.5MiB"
    assert bytes_size(64 * 1024 * 1024) == "64MiB"
    assert bytes_size(23.4 * 1024**3) == "23.4GiB"
    assert block_io({"io_service_bytes_recursive": [{"op": "Read", "value": 5}, {"op": "write", "value": 7},
                                                    {"op": "Total", "value": 12}]}) == (5.0, 7.0)


def sample() -> Sample:
    s = Sample("web")
    s.update({"name": "/web", "id": "a" * 64,
              "cpu_stats": {"cpu_usage": {"total_usage": 2_000}, "system_cpu_usage": 20_000, "online_cpus": 2},
              "precpu_stats": {"cpu_usage": {"total_usage": 1_000}, "system_cpu_usage": 10_000},
              "memory_stats": {"usage": 2 * 1024 * 1024, "limit": 64 * 1024 * 1024, "stats": {"inactive_file": 0}},
              "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 0}},
              "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4096}]},
              "pids_stats": {"current": 3}})
    return s


def test_row_fields() -> None:
    row = StatsRow(sample(), trunc=True)
    assert (row.ID(), row.Name(), row.CPUPerc(), row.MemUsage(), row.MemPerc()) == (
        "a" * 12, "web", "20.00%", "2MiB / 64MiB", "3.12%")
    assert (row.NetIO(), row.BlockIO(), row.PIDs()) == ("1.5kB / 0B", "4.1kB / 0B", "3")
    assert StatsRow(sample(), trunc=False).ID() == "a" * 64
    broken = Sample("gone")
    broken.fail("timeout waiting for stats", reset=True)
    row = StatsRow(broken, trunc=True)
    assert (row.Name(), row.CPUPerc(), row.MemUsage(), row.MemPerc(), row.NetIO(), row.PIDs()) == (
        "--", "--", "-- / --", "--", "--", "--")


def test_table_and_live_frame() -> None:
    text = render(DEFAULT_TABLE, [StatsRow(sample(), trunc=True)], HEADERS)
    assert text == (
        "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O    PIDS\n"
        "aaaaaaaaaaaa   web       20.00%    2MiB / 64MiB        3.12%     1.5kB / 0B   4.1kB / 0B   3\n")
    frame = redraw("a\nb\n")
    assert frame == "\033[Ha\033[K\nb\033[K\n\033[J"
    assert render("{{json .}}", [StatsRow(sample(), trunc=True)], HEADERS).startswith('{"BlockIO":"4.1kB / 0B",')
