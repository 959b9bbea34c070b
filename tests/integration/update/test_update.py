"""POST /containers/{id}/update and `sampan update` / `docker update` against a real sampand:
the stored HostConfig, a running container's cgroup, dockerd's errors and the update event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
MiB = 1 << 20


def sampan(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    return subprocess.run([sys.executable, "-m", "sampan.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def run_detached(daemon: DaemonProcess, image: str, *args: str, host_config: dict[str, Any] | None = None,
                 name: str = "") -> str:
    body = {"Image": image, "Cmd": list(args) or ["sleep", "600"], "HostConfig": host_config or {}}
    status, created = daemon.json("POST", "/containers/create" + (f"?name={name}" if name else ""), body)
    assert status == 201, created
    cid = str(created["Id"])
    status, _, raw = daemon.request("POST", f"/containers/{cid}/start")
    assert status == 204, raw
    return cid


def inspect(daemon: DaemonProcess, cid: str) -> dict[str, Any]:
    status, info = daemon.json("GET", f"/containers/{cid}/json")
    assert status == 200, info
    return dict(info)


def update(daemon: DaemonProcess, cid: str, body: dict[str, Any]) -> tuple[int, Any]:
    return daemon.json("POST", f"/containers/{cid}/update", body)


def cgroup_file(pid: int, controller: str, v1_name: str, v2_name: str) -> str:
    """A control file of the cgroup `pid` is in (v1 controller hierarchy, else the unified one)."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [ln.rstrip("\n").split(":", 2) for ln in f]
    for _, controllers, path in lines:
        if controller in controllers.split(","):
            candidate = f"/sys/fs/cgroup/{controller}{path}/{v1_name}"
            if os.path.exists(candidate):
                return candidate
    for hid, _, path in lines:
        if hid == "0":
            return f"/sys/fs/cgroup/unified{path}/{v2_name}" if os.path.isdir("/sys/fs/cgroup/unified") \
                else f"/sys/fs/cgroup{path}/{v2_name}"
    raise AssertionError(f"no {controller} cgroup for {pid}")


def read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def test_update_memory_of_a_running_container(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run_detached(daemon, busybox_ref, host_config={"Memory": 64 * MiB})
    try:
        pid = inspect(daemon, cid)["State"]["Pid"]
        limit = cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
        assert int(read(limit)) == 64 * MiB
        status, answer = update(daemon, cid, {"Memory": 96 * MiB, "PidsLimit": 50, "CpuShares": 512})
        assert (status, answer) == (200, {"Warnings": []})
        assert int(read(limit)) == 96 * MiB
        assert read(cgroup_file(pid, "pids", "pids.max", "pids.max")) == "50"
        hc = inspect(daemon, cid)["HostConfig"]
        assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"], hc["CpuShares"]) == (96 * MiB, 128 * MiB, 50, 512)
        # more memory than the stored swap limit without a new swap limit: dockerd's conflict
        status, answer = update(daemon, cid, {"Memory": 256 * MiB})
        assert status == 409 and answer["message"] == (
            f"Cannot update container {cid}: Memory limit should be smaller than already set memoryswap limit, "
            "update the memoryswap at the same time")
        status, answer = update(daemon, cid, {"Memory": 200 * MiB, "MemorySwap": 100 * MiB})
        assert status == 400 and answer["message"] == \
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        status, answer = update(daemon, cid, {"Memory": 1 * MiB})
        assert status == 400 and answer["message"] == "Minimum memory limit allowed is 6MB"
        assert int(read(limit)) == 96 * MiB
        # past the swap limit with unlimited swap at the same time
        assert update(daemon, cid, {"Memory": 512 * MiB, "MemorySwap": -1})[0] == 200
        assert int(read(limit)) == 512 * MiB
        assert inspect(daemon, cid)["HostConfig"]["MemorySwap"] == -1
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_update_a_stopped_container_applies_at_start(daemon: DaemonProcess, busybox_ref: str) -> None:
    _, created = daemon.json("POST", "/containers/create", {"Image": busybox_ref, "Cmd": ["sleep", "600"]})
    cid = created["Id"]
    try:
        assert update(daemon, cid, {"Memory": 48 * MiB, "MemorySwap": -1})[0] == 200
        daemon.request("POST", f"/containers/{cid}/start")
        pid = inspect(daemon, cid)["State"]["Pid"]
        assert int(read(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max"))) == 48 * MiB
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_update_restart_policy_and_auto_remove(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run_detached(daemon, busybox_ref)
    rm_cid = run_detached(daemon, busybox_ref, host_config={"AutoRemove": True})
    try:
        status, _ = update(daemon, cid, {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}})
        assert status == 200
        assert inspect(daemon, cid)["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
        status, answer = update(daemon, cid, {"RestartPolicy": {"Name": "sometimes"}})
        assert status == 400 and "invalid restart policy: unknown policy 'sometimes'" in answer["message"]
        status, answer = update(daemon, rm_cid, {"RestartPolicy": {"Name": "always"}})
        assert status == 409 and answer["message"] == (
            f"Cannot update container {rm_cid}: Restart policy cannot be updated because AutoRemove is enabled "
            "for the container")
        status, answer = update(daemon, "no-such-container", {"Memory": 64 * MiB})
        assert status == 404
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")
        daemon.request("DELETE", f"/containers/{rm_cid}?force=1")


def events_until_now(daemon: DaemonProcess, action: str) -> list[dict[str, Any]]:
    """The kept events of one action (skips while /events is not there or does not end at `until`)."""
    import time
    from urllib.parse import quote

    query = f"since=0&until={int(time.time()) + 1}&filters=" + quote(json.dumps({"event": [action]}))
    try:
        status, _, raw = daemon.request("GET", "/events?" + query, timeout=5)
    except TimeoutError:
        pytest.skip("/events does not answer a bounded query yet")
    if status != 200:
        pytest.skip("no /events route yet")
    return [json.loads(ln) for ln in raw.splitlines() if ln.strip()]


def test_update_event(daemon: DaemonProcess, busybox_ref: str) -> None:
    _, created = daemon.json("POST", "/containers/create?name=upd-ev",
                                  {"Image": busybox_ref, "Labels": {"tier": "web"}})
    cid = created["Id"]
    try:
        assert update(daemon, cid, {"CpuShares": 256})[0] == 200
        mine = [e for e in events_until_now(daemon, "update") if e["Actor"]["ID"] == cid]
        assert mine and mine[-1]["Actor"]["Attributes"] == {"image": busybox_ref, "name": "upd-ev", "tier": "web"}
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_cli_update(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run_detached(daemon, busybox_ref, name="cli-upd")
    try:
        r = sampan(daemon, "update", "-m", "80m", "--memory-swap", "160m", "--restart", "unless-stopped",
                   "--cpus", "0.5", "cli-upd")
        assert (r.returncode, r.stdout, r.stderr) == (0, "cli-upd\n", ""), r
        hc = inspect(daemon, cid)["HostConfig"]
        assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"]) == (80 * MiB, 160 * MiB, 500_000_000)
        assert hc["RestartPolicy"]["Name"] == "unless-stopped"
        r = sampan(daemon, "update", "--cpu-period", "50000", "cli-upd")
        assert r.returncode == 1 and r.stderr == (
            f"Error response from daemon: Cannot update container {cid}: Conflicting options: CPU Period cannot "
            "be updated as NanoCPUs has already been set\n"), r
        r = sampan(daemon, "update", "cli-upd")
        assert (r.returncode, r.stderr) == (1, "you must provide one or more flags when using this command\n")
        r = sampan(daemon, "update", "-m", "lots", "cli-upd")
        assert r.returncode == 125 and r.stderr.startswith(
            "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'"), r
        r = sampan(daemon, "update", "-c", "100", "cli-upd", "nope")
        assert (r.returncode, r.stdout) == (1, "cli-upd\n")
        assert r.stderr == "Error response from daemon: No such container: nope\n"
        d = daemon.docker("update", "--pids-limit", "33", "cli-upd")
        assert (d.returncode, d.stdout) == (0, "cli-upd\n"), d
        assert inspect(daemon, cid)["HostConfig"]["PidsLimit"] == 33
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")
