"""The update's checks, merge and runtime call, with a fake runtime runner (no root)."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from sampan import errdefs
from sampan.daemon.containers import state as st
from sampan.daemon.containers.record import ContainerRecord, State
from sampan.daemon.containers.update import (
    KERNEL_MEMORY_WARNING,
    cgroup_resources,
    merge,
    update_container,
    validate,
)

MiB = 1 << 20
CID = "f" * 64


def test_validate_in_update_mode() -> None:
    assert validate({"MemorySwap": 256 * MiB}) == []  # swap alone is fine in an update
    assert validate({"KernelMemory": 64 * MiB}) == [KERNEL_MEMORY_WARNING]
    with pytest.raises(errdefs.InvalidArgument, match="Minimum memoryswap limit should be larger than memory"):
        validate({"Memory": 64 * MiB, "MemorySwap": 32 * MiB})
    with pytest.raises(errdefs.InvalidArgument, match="Minimum memory limit allowed is 6MB"):
        validate({"Memory": MiB})
    with pytest.raises(errdefs.InvalidArgument, match="Range of blkio weight is from 10 to 1000"):
        validate({"BlkioWeight": 5})
    with pytest.raises(errdefs.InvalidArgument, match="unknown policy 'later'"):
        validate({"RestartPolicy": {"Name": "later"}})
    with pytest.raises(errdefs.InvalidArgument, match="want an integer"):
        validate({"Memory": "lots"})


def test_merge_like_dockerd() -> None:
    had = {"Memory": 64 * MiB, "MemorySwap": 128 * MiB, "CpuShares": 0, "NanoCpus": 0, "AutoRemove": False,
           "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}}
    out = merge(had, {"Memory": 100 * MiB, "CpuShares": 0, "PidsLimit": 0,
                      "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}}, CID)
    assert out["Memory"] == 100 * MiB and out["MemorySwap"] == 128 * MiB and out["PidsLimit"] == 0
    assert out["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert had["Memory"] == 64 * MiB  # a new dict
    assert merge(had, {"RestartPolicy": {"Name": ""}}, CID)["RestartPolicy"]["Name"] == "no"
    with pytest.raises(errdefs.Conflict, match=f"^Cannot update container {CID}: Memory limit should be smaller"):
        merge(had, {"Memory": 256 * MiB}, CID)
    assert merge(had, {"Memory": 256 * MiB, "MemorySwap": -1}, CID)["MemorySwap"] == -1
    with pytest.raises(errdefs.Conflict, match="Nano CPUs cannot be updated as CPU Quota has already been set"):
        merge({"CpuQuota": 50000}, {"NanoCpus": 10**9}, CID)
    with pytest.raises(errdefs.Conflict, match="CPU Period cannot be updated as NanoCPUs has already been set"):
        merge({"NanoCpus": 10**9}, {"CpuPeriod": 50000}, CID)
    with pytest.raises(errdefs.Conflict, match="Restart policy cannot be updated because AutoRemove is enabled"):
        merge({"AutoRemove": True}, {"RestartPolicy": {"Name": "always"}}, CID)
    assert merge({"AutoRemove": True}, {"RestartPolicy": {"Name": "no"}}, CID)["RestartPolicy"]["Name"] == "no"


def test_cgroup_resources_only_what_was_touched() -> None:
    hc = {"Memory": 64 * MiB, "MemorySwap": 128 * MiB, "CpuShares": 512, "PidsLimit": 10,
          "CpuRealtimeRuntime": 950}
    assert cgroup_resources(hc, {"CpuShares": 512}) == {"cpu": {"shares": 512, "realtimeRuntime": 950}}
    assert cgroup_resources(hc, {"Memory": 64 * MiB}) == {"memory": {"limit": 64 * MiB, "swap": 128 * MiB}}
    assert cgroup_resources({**hc, "MemorySwap": -1}, {"MemorySwap": -1}) == \
        {"memory": {"limit": 64 * MiB, "swap": -1}}
    assert cgroup_resources({"PidsLimit": 0}, {"PidsLimit": 0}) == {"pids": {"limit": -1}}
    assert cgroup_resources(hc, {"RestartPolicy": {"Name": "always"}}) == {}


def make_record(directory: str, status: str) -> ContainerRecord:
    rec = ContainerRecord(id=CID, name="u", created="", created_ns=0, image_id="", image_name="img", path="sh",
                          args=[], config={}, host_config={"Memory": 64 * MiB, "MemorySwap": 128 * MiB},
                          image_config={}, driver="overlay2", dir=directory)
    rec.state = State(status=status, pid=42)
    return rec


def test_update_container_calls_the_runtime_and_restores_on_failure() -> None:
    calls: list[tuple[list[str], dict[str, object]]] = []

    def ok(argv: list[str], stdin: bytes) -> tuple[int, str]:
        calls.append((argv, json.loads(stdin)))
        return 0, ""

    def fail(argv: list[str], stdin: bytes) -> tuple[int, str]:
        return 1, 'time="2026-01-01T00:00:00Z" level=error msg="write memory.limit_in_bytes: device or resource busy"'

    with tempfile.TemporaryDirectory() as d:
        rec = make_record(d, st.RUNNING)
        assert update_container(rec, {"Memory": 96 * MiB}, "/rt", "/root", ok).to_json() == {"Warnings": []}
        assert calls == [(["/rt", "--root", "/root", "update", "--resources", "-", CID],
                          {"memory": {"limit": 96 * MiB, "swap": 128 * MiB}})]
        with open(os.path.join(d, "hostconfig.json")) as f:
            assert json.load(f)["Memory"] == 96 * MiB
        with pytest.raises(errdefs.System, match=f"^Cannot update container {CID}: write memory.limit_in_bytes: "
                                                 "device or resource busy$"):
            update_container(rec, {"Memory": 8 * MiB}, "/rt", "/root", fail)
        assert rec.host_config["Memory"] == 96 * MiB
        with open(os.path.join(d, "hostconfig.json")) as f:
            assert json.load(f)["Memory"] == 96 * MiB
        stopped = make_record(d, st.EXITED)
        calls.clear()
        update_container(stopped, {"Memory": 32 * MiB}, "/rt", "/root", ok)
        assert calls == [] and stopped.host_config["Memory"] == 32 * MiB  # applied at the next start
        with pytest.raises(errdefs.System, match="marked for removal"):
            update_container(make_record(d, st.REMOVING), {"Memory": 32 * MiB}, "/rt", "/root", ok)
