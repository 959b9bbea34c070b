"""`update`: change a running container's cgroup limits (runc's flags or a resources JSON)."""

from __future__ import annotations

import json
import sys
from typing import Any

from sampan.errdefs import Conflict, InvalidArgument
from sampan.runtime.state import Container

# flag dest -> (section, key, kind)
FIELDS: dict[str, tuple[str, str, str]] = {
    "blkio_weight": ("blockIO", "weight", "int"), "cpu_period": ("cpu", "period", "int"),
    "cpu_quota": ("cpu", "quota", "int"), "cpu_share": ("cpu", "shares", "int"),
    "cpu_rt_period": ("cpu", "realtimePeriod", "int"), "cpu_rt_runtime": ("cpu", "realtimeRuntime", "int"),
    "cpuset_cpus": ("cpu", "cpus", "str"), "cpuset_mems": ("cpu", "mems", "str"),
    "memory": ("memory", "limit", "int"), "memory_reservation": ("memory", "reservation", "int"),
    "memory_swap": ("memory", "swap", "int"), "pids_limit": ("pids", "limit", "int"),
}
FLAGS: dict[str, tuple[str, str]] = {"--resources": ("resources", "str"), "-r": ("resources", "str")}
FLAGS.update({"--" + dest.replace("_", "-"): (dest, "str") for dest in FIELDS})


def resources_from(opts: dict[str, Any]) -> dict[str, Any]:
    """The resources to apply: the --resources file (or '-' for stdin) wins over flags."""
    path = opts.get("resources")
    if path:
        try:
            if path == "-":
                raw = sys.stdin.read()
            else:
                with open(path) as f:
                    raw = f.read()
            doc = json.loads(raw)
        except (OSError, ValueError) as e:
            raise InvalidArgument(f"read resources from {path}: {e}")
        if not isinstance(doc, dict):
            raise InvalidArgument("resources must be a JSON object")
        return doc
    out: dict[str, Any] = {}
    for dest, (section, key, kind) in FIELDS.items():
        if dest in opts:
            value: Any = opts[dest]
            if kind == "int":
                try:
                    value = int(value)
                except ValueError:
                    raise InvalidArgument(f"invalid value for --{dest.replace('_', '-')}: {value!r}")
            out.setdefault(section, {})[key] = value
    return out


def update(c: Container, resources: dict[str, Any]) -> None:
    from sampan.runtime.cgroups import new_manager, validate_resources

    status = c.status()
    if status in ("stopped", "creating"):
        raise Conflict("container not running")
    validate_resources(resources)
    new_manager(c.state.cgroups_path, c.id).set(resources, default_devices=False)
    st = c.state
    spec = dict(st.spec)
    linux = dict(spec.get("linux") or {})
    merged = dict(linux.get("resources") or {})
    for section, values in resources.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:
            merged[section] = values
    linux["resources"] = merged
    spec["linux"] = linux
    c.save(st._replace(spec=spec))
