"""`POST /containers/{id}/update`: new resources and restart policy for a container.

dockerd validates the update on its own (no "Memory needed with MemorySwap" rule there),
merges the non-zero fields into the stored HostConfig with a few conflict checks, saves it,
and only then changes a running container's cgroup through the runtime's `update`; a failed
runtime update puts the old HostConfig back. Messages are dockerd's.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sampan import errdefs
from sampan.daemon.containers import state as st
from sampan.daemon.containers.record import ContainerRecord
from sampan.daemon.containers.spec_resources import resources as oci_resources
from sampan.daemon.containers.spec_validate import validate_host_config

log = logging.getLogger(__name__)

# Engine API Resources field -> the OCI `linux.resources` section it lands in
SECTIONS: dict[str, str] = {
    "BlkioWeight": "blockIO", "CpuShares": "cpu", "NanoCpus": "cpu", "CpuPeriod": "cpu", "CpuQuota": "cpu",
    "CpusetCpus": "cpu", "CpusetMems": "cpu", "CpuRealtimePeriod": "cpu", "CpuRealtimeRuntime": "cpu",
    "Memory": "memory", "MemorySwap": "memory", "MemoryReservation": "memory", "PidsLimit": "pids",
}
KERNEL_MEMORY_WARNING = ("Your kernel does not support kernel memory limit capabilities or the cgroup is not "
                         "mounted. Limitation discarded.")


@dataclass
class UpdateResult:
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"Warnings": self.warnings}


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise errdefs.InvalidArgument(f"invalid value for {key}: {value!r}: want an integer")
    return value


def validate(body: dict[str, Any]) -> list[str]:
    """dockerd's verifyContainerSettings in update mode; returns its warnings."""
    if not isinstance(body, dict):
        raise errdefs.InvalidArgument("invalid update body: want an object")
    warnings = []
    if _int(body, "KernelMemory"):
        warnings.append(KERNEL_MEMORY_WARNING)
    checked = {k: body[k] for k in (*SECTIONS, "RestartPolicy") if body.get(k) is not None}
    if not _int(checked, "Memory"):
        checked.pop("MemorySwap", None)  # an update may change the swap limit alone
    validate_host_config(checked)
    return warnings


def merge(rec_hc: dict[str, Any], body: dict[str, Any], container_id: str) -> dict[str, Any]:
    """The HostConfig after the update (a new dict), or Conflict in dockerd's words."""
    def conflict(message: str) -> errdefs.Conflict:
        return errdefs.Conflict(f"Cannot update container {container_id}: {message}")

    had = dict(rec_hc)
    nano, period, quota = _int(body, "NanoCpus"), _int(body, "CpuPeriod"), _int(body, "CpuQuota")
    if nano > 0 and int(had.get("CpuPeriod") or 0) > 0:
        raise conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
    if nano > 0 and int(had.get("CpuQuota") or 0) > 0:
        raise conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
    if period > 0 and int(had.get("NanoCpus") or 0) > 0:
        raise conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
    if quota > 0 and int(had.get("NanoCpus") or 0) > 0:
        raise conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
    out = dict(had)
    memory, swap = _int(body, "Memory"), _int(body, "MemorySwap")
    if memory and swap == 0 and 0 < int(had.get("MemorySwap") or 0) < memory:
        raise conflict("Memory limit should be smaller than already set memoryswap limit, update the memoryswap "
                       "at the same time")
    for key in SECTIONS:
        if key == "PidsLimit":
            if body.get(key) is not None:
                out[key] = _int(body, key)
        elif body.get(key):
            out[key] = body[key]
    policy = body.get("RestartPolicy") or {}
    if policy.get("Name"):
        if had.get("AutoRemove") and policy["Name"] != "no":
            raise conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
        out["RestartPolicy"] = {"Name": policy["Name"], "MaximumRetryCount": int(policy.get("MaximumRetryCount") or 0)}
    return out


def cgroup_resources(host_config: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The OCI resources a running container gets: the sections the update touched, whole."""
    touched = {SECTIONS[k] for k in SECTIONS if body.get(k)}
    if body.get("PidsLimit") is not None:
        touched.add("pids")
    full = oci_resources(host_config)
    cpu = full.setdefault("cpu", {})
    for key, oci in (("CpuRealtimePeriod", "realtimePeriod"), ("CpuRealtimeRuntime", "realtimeRuntime")):
        if int(host_config.get(key) or 0):
            cpu[oci] = int(host_config[key])
    if "memory" in touched and int(host_config.get("MemorySwap") or 0) == -1:
        full.setdefault("memory", {})["swap"] = -1  # unlimited swap: the runtime lifts memsw first
    pids = host_config.get("PidsLimit")
    if "pids" in touched and (pids is None or int(pids) <= 0):
        full["pids"] = {"limit": -1}  # unlimited again
    return {k: v for k, v in full.items() if k in touched and v}


Runner = Callable[[list[str], bytes], tuple[int, str]]


def run_runtime(argv: list[str], stdin: bytes) -> tuple[int, str]:
    """Run the runtime; (exit status, stderr text)."""
    proc = subprocess.run(argv, input=stdin, capture_output=True, check=False, timeout=60)
    return proc.returncode, proc.stderr.decode(errors="replace").strip()


def apply_running(rec: ContainerRecord, runtime: str, runtime_root: str, resources: dict[str, Any],
                  runner: Runner = run_runtime) -> None:
    """`<runtime> update --resources -` on a running or paused container."""
    if not resources or rec.state.status not in (st.RUNNING, st.PAUSED):
        return
    argv = [runtime, "--root", runtime_root, "update", "--resources", "-", rec.id]
    code, err = runner(argv, json.dumps(resources).encode())
    if code != 0:
        raise errdefs.System(f"Cannot update container {rec.id}: {_runtime_message(err)}")


def _runtime_message(stderr: str) -> str:
    """The runtime's last error line without its log decoration."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return "runtime update failed"
    last = lines[-1]
    found = re.search(r'msg="((?:[^"\\]|\\.)*)"', last)
    if found:
        return found.group(1).replace('\\"', '"').replace("\\\\", "\\")
    if last.startswith("{"):
        try:
            return str(json.loads(last).get("msg") or last)
        except ValueError:
            pass
    return last


def update_container(rec: ContainerRecord, body: dict[str, Any], runtime: str, runtime_root: str,
                     runner: Runner = run_runtime) -> UpdateResult:
    """Validate, merge, save and apply; the caller holds the container's lock."""
    warnings = validate(body)
    if rec.state.status in (st.REMOVING, st.DEAD):
        raise errdefs.System(f'Cannot update container {rec.id}: container is marked for removal and cannot be '
                             '"update"')
    old = rec.host_config
    rec.host_config = merge(old, body, rec.id)
    rec.save()
    try:
        apply_running(rec, runtime, runtime_root, cgroup_resources(rec.host_config, body), runner)
    except BaseException:
        rec.host_config = old
        rec.save()
        raise
    return UpdateResult(warnings)
