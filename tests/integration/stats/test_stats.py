"""GET /containers/{id}/stats against a real container: Docker's shape, a memory limit, pids,
CPU time rising under a busy loop, one streamed sample a second; docker-py and the docker CLI."""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import datetime

import pytest

from sampan.server.routes.containers import ZERO_TIME
from tests.support.daemon import DOCKER_CLI, DaemonProcess, UnixHTTPConnection

pytestmark = pytest.mark.root
MIB64 = 64 * 1024 * 1024


def _run(daemon: DaemonProcess, image: str, cmd: list[str], **host: object) -> str:
    status, data = daemon.json("POST", "/containers/create", {"Image": image, "Cmd": cmd, "HostConfig": host})
    assert status == 201, data
    cid = str(data["Id"])
    assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
    return cid


def _seconds(stamp: str) -> float:
    base, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(base + "+00:00").timestamp() + float("0." + (frac or "0"))


@pytest.fixture(scope="module")
def busy(daemon: DaemonProcess, busybox_ref: str) -> object:
    cid = _run(daemon, busybox_ref, ["sh", "-c", "while :; do :; done"], Memory=MIB64)
    yield cid
    daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)


def test_one_sample_under_a_memory_limit(daemon: DaemonProcess, busy: str) -> None:
    status, out = daemon.json("GET", f"/containers/{busy}/stats?stream=false")
    assert status == 200
    assert out["id"] == busy and out["name"].startswith("/")
    assert out["memory_stats"]["limit"] == MIB64 and out["memory_stats"]["usage"] > 0
    assert out["pids_stats"]["current"] >= 1
    cpu, pre = out["cpu_stats"], out["precpu_stats"]
    assert cpu["cpu_usage"]["total_usage"] > pre["cpu_usage"]["total_usage"] > 0  # the loop burns CPU
    assert cpu["system_cpu_usage"] > pre["system_cpu_usage"] > 0 and cpu["online_cpus"] == os.cpu_count()
    assert 0.8 < _seconds(out["read"]) - _seconds(out["preread"]) < 1.6
    for key in ("blkio_stats", "num_procs", "storage_stats"):
        assert key in out


def test_one_shot_does_not_wait(daemon: DaemonProcess, busy: str) -> None:
    start = time.monotonic()
    status, out = daemon.json("GET", f"/containers/{busy}/stats?stream=false&one-shot=true")
    assert status == 200 and time.monotonic() - start < 0.8
    assert out["preread"] == ZERO_TIME and out["precpu_stats"]["cpu_usage"]["total_usage"] == 0


def test_stream_is_one_sample_a_second(daemon: DaemonProcess, busy: str) -> None:
    conn = UnixHTTPConnection(daemon.socket, timeout=10)
    try:
        conn.request("GET", f"/containers/{busy}/stats")
        resp = conn.getresponse()
        assert resp.status == 200
        samples = [json.loads(resp.readline()) for _ in range(3)]
    finally:
        conn.close()
    assert samples[0]["preread"] == ZERO_TIME
    reads = [_seconds(s["read"]) for s in samples]
    assert all(0.8 < b - a < 1.3 for a, b in itertools.pairwise(reads))
    assert samples[2]["preread"] == samples[1]["read"]
    assert samples[2]["precpu_stats"] == samples[1]["cpu_stats"]
    totals = [s["cpu_stats"]["cpu_usage"]["total_usage"] for s in samples]
    assert totals == sorted(totals) and totals[2] > totals[0]


def test_stopped_container_gives_zeros(daemon: DaemonProcess, busybox_ref: str) -> None:
    status, data = daemon.json("POST", "/containers/create", {"Image": busybox_ref, "Cmd": ["true"]})
    cid = data["Id"]
    try:
        start = time.monotonic()
        status, out = daemon.json("GET", f"/containers/{cid}/stats?stream=false")
        assert status == 200 and time.monotonic() - start < 0.8
        assert out["read"] == ZERO_TIME and out["memory_stats"] == {} and out["pids_stats"] == {}
        assert out["cpu_stats"]["cpu_usage"]["total_usage"] == 0 and out["id"] == cid
        assert daemon.json("GET", "/containers/nope/stats?stream=false")[0] == 404
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_docker_py_stats(daemon: DaemonProcess, busy: str) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.docker_host, version="1.44")
    try:
        out = client.containers.get(busy).stats(stream=False)
        assert out["memory_stats"]["limit"] == MIB64 and out["pids_stats"]["current"] >= 1
        assert out["cpu_stats"]["cpu_usage"]["total_usage"] > out["precpu_stats"]["cpu_usage"]["total_usage"]
    finally:
        client.close()


@pytest.mark.skipif(not os.path.exists(DOCKER_CLI), reason="the docker CLI is not installed")
def test_docker_cli_stats_no_stream(daemon: DaemonProcess, busy: str) -> None:
    r = daemon.docker("stats", "--no-stream", "--format", "{{.ID}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", busy[:12])
    assert r.returncode == 0, r.stderr
    short, cpu, used, _, limit, pids = r.stdout.split()
    assert short == busy[:12] and limit == "64MiB" and int(pids) >= 1 and used.endswith("B")
    assert float(cpu.rstrip("%")) > 20.0  # a busy loop on one core


def test_stream_ends_when_the_container_is_removed(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = _run(daemon, busybox_ref, ["sleep", "30"])
    conn = UnixHTTPConnection(daemon.socket, timeout=10)
    try:
        conn.request("GET", f"/containers/{cid}/stats")
        resp = conn.getresponse()
        assert json.loads(resp.readline())["id"] == cid
        assert daemon.request("DELETE", f"/containers/{cid}?force=1", timeout=60)[0] == 204
        rest = resp.read()  # a clean end of the chunked body, not a cut connection
        assert all(json.loads(line)["id"] == cid for line in rest.splitlines())
    finally:
        conn.close()
