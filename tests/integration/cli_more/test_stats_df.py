"""`sampan stats` and `sampan system df` against a real sampand, next to the docker CLI."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.cli_more.helpers import remove, run_detached, sampan
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
STATS_HEADER = re.compile(r"CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$")


def test_stats_no_stream_under_a_memory_limit(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run_detached(daemon, busybox_ref, "limited", "-m", "64m")
    try:
        r = sampan(daemon, "stats", "--no-stream", "limited")
        assert r.returncode == 0, r
        header, row, *rest = r.stdout.splitlines()
        assert STATS_HEADER.match(header) and not rest, r.stdout
        cells = re.split(r" {3,}", row)
        assert cells[:2] == [cid[:12], "limited"], cells
        assert re.fullmatch(r"\d+\.\d\d%", cells[2]), cells
        assert re.fullmatch(r"[\d.]+(B|KiB|MiB) / 64MiB", cells[3]), cells
        assert re.fullmatch(r"\d+\.\d\d%", cells[4]) and cells[7].isdigit() and int(cells[7]) >= 1, cells
        theirs = daemon.docker("stats", "--no-stream", "limited")
        assert theirs.returncode == 0 and theirs.stdout.splitlines()[0] == header, theirs
        r = sampan(daemon, "stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.Name}} {{.Container}}",
                   "limited")
        assert r.stdout == f"{cid} limited limited\n", r
        table = ("table {{.ID}}\t{{.Name}}\t{{.Container}}\t{{.NetIO}}", "limited")
        assert sampan(daemon, "stats", "--no-stream", "--format", *table).stdout == daemon.docker(
            "stats", "--no-stream", "--format", *table).stdout
        r = sampan(daemon, "stats", "--no-stream", "--format", "json", "limited")
        doc = json.loads(r.stdout)
        assert sorted(doc) == ["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO",
                               "PIDs"]
        assert doc["MemUsage"].endswith(" / 64MiB")
        everyone = sampan(daemon, "stats", "--no-stream")
        assert everyone.returncode == 0 and cid[:12] in everyone.stdout, everyone
    finally:
        remove(daemon, "limited")


def test_stats_errors_and_stopped(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = sampan(daemon, "stats", "--no-stream", "ghost")
    assert (r.returncode, r.stdout) == (1, ""), r
    assert r.stderr == "Error response from daemon: No such container: ghost\n"
    assert (r.returncode, r.stderr) == (lambda d: (d.returncode, d.stderr))(
        daemon.docker("stats", "--no-stream", "ghost"))
    assert sampan(daemon, "create", "--name", "idle", busybox_ref).returncode == 0
    try:
        r = sampan(daemon, "stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}",
                   "idle")
        assert (r.returncode, r.stdout) == (0, "idle 0.00% 0B / 0B 0\n"), r
        theirs = daemon.docker("stats", "--no-stream", "--format",
                               "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "idle")
        assert theirs.stdout == r.stdout, theirs
    finally:
        remove(daemon, "idle")


def test_stats_stream_redraws(daemon: DaemonProcess, busybox_ref: str) -> None:
    import subprocess
    import sys

    run_detached(daemon, busybox_ref, "streamed")
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    proc = subprocess.Popen([sys.executable, "-m", "sampan.cli.main", "stats", "streamed"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        try:
            out, _ = proc.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        frames = out.decode().split("\033[H")[1:]
        assert len(frames) >= 3, out
        assert all(f.endswith("\033[J") for f in frames[:-1])
        lines = frames[1].split("\033[K\n")
        assert STATS_HEADER.match(lines[0]) and "streamed" in lines[1], frames[1]
    finally:
        remove(daemon, "streamed")


def test_system_df(daemon: DaemonProcess, busybox_ref: str) -> None:
    assert sampan(daemon, "create", "--name", "df-user", busybox_ref).returncode == 0
    try:
        r = sampan(daemon, "system", "df")
        assert r.returncode == 0, r
        lines = r.stdout.splitlines()
        assert re.match(r"TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$", lines[0])
        assert re.match(r"Images +1 +1 +[\d.]+[kM]B +0B \(0%\)$", lines[1]), lines  # used by df-user
        assert re.match(r"Containers +1 +0 +([\d.]+[kM]?B) +\1 \(100%\)$", lines[2]), lines
        assert re.match(r"Local Volumes +0 +0 +0B +0B$", lines[3]), lines
        assert re.match(r"Build Cache +0 +0 +0B +0B$", lines[4]), lines
        assert r.stdout == daemon.docker("system", "df").stdout
        verbose = sampan(daemon, "system", "df", "-v")
        assert verbose.returncode == 0, verbose
        assert verbose.stdout == daemon.docker("system", "df", "-v").stdout
        assert "Images space usage:" in verbose.stdout and "df-user" in verbose.stdout
        js = [json.loads(line) for line in sampan(daemon, "system", "df", "--format", "json").stdout.splitlines()]
        assert [j["Type"] for j in js] == ["Images", "Containers", "Local Volumes", "Build Cache"]
        theirs = daemon.docker("system", "df", "--format", "json").stdout.splitlines()
        assert js == [json.loads(line) for line in theirs]
        ours_v = json.loads(sampan(daemon, "system", "df", "-v", "--format", "json").stdout)
        theirs_v = json.loads(daemon.docker("system", "df", "-v", "--format", "json").stdout)
        assert ours_v == theirs_v
    finally:
        remove(daemon, "df-user")
