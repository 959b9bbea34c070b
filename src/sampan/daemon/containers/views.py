"""Docker's ContainerInspect and ContainerSummary shapes, and the `Status` text of `docker ps`."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sampan.api.units import human_duration
from sampan.daemon.containers import state as st
from sampan.daemon.containers.record import ZERO_TIME, ContainerRecord
from sampan.shim.wire import rfc3339nano


def rfc3339(ns: int) -> str:
    return rfc3339nano(ns)


def parse_time(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time with up to nanoseconds (0 for the zero time)."""
    if not text or text.startswith("0001-"):
        return 0.0
    base, _, rest = text.rstrip("Z").partition(".")
    secs = datetime.fromisoformat(base + "+00:00").timestamp()
    digits = "".join(ch for ch in rest if ch.isdigit())
    return secs + (int(digits) / 10 ** len(digits) if digits else 0.0)


def status_text(rec: ContainerRecord, now: float | None = None) -> str:
    now = time.time() if now is None else now
    s = rec.state
    if s.status == st.RUNNING:
        health = str((s.health or {}).get("Status") or "")
        shown = {"starting": " (health: starting)", "healthy": " (healthy)", "unhealthy": " (unhealthy)"}
        return "Up " + human_duration(now - parse_time(s.started_at)) + shown.get(health, "")
    if s.status == st.PAUSED:
        return "Up " + human_duration(now - parse_time(s.started_at)) + " (Paused)"
    if s.status == st.RESTARTING:
        return f"Restarting ({s.exit_code}) " + human_duration(now - parse_time(s.finished_at)) + " ago"
    if s.status == st.REMOVING:
        return "Removal In Progress"
    if s.status == st.DEAD:
        return "Dead"
    if s.status == st.EXITED and s.finished_at != ZERO_TIME:
        return f"Exited ({s.exit_code}) " + human_duration(now - parse_time(s.finished_at)) + " ago"
    return "Created"


def _network_settings(rec: ContainerRecord) -> dict[str, Any]:
    """No bridge networking yet: a default-network container has only loopback, so no IP."""
    mode = str(rec.host_config.get("NetworkMode") or "default")
    name = "bridge" if mode == "default" else mode
    endpoint = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "NetworkID": "",
                "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DriverOpts": None, "DNSNames": None}
    networks = {} if mode.startswith("container:") else {name: endpoint}
    return {"Networks": networks}


def _mounts(rec: ContainerRecord) -> list[dict[str, Any]]:
    out = []
    for bind in rec.host_config.get("Binds") or []:
        parts = str(bind).split(":")
        if len(parts) >= 2:
            mode = parts[2] if len(parts) > 2 else ""
            out.append({"Type": "bind", "Source": parts[0], "Destination": parts[1], "Mode": mode,
                        "RW": "ro" not in mode.split(","), "Propagation": "rprivate"})
    for m in rec.host_config.get("Mounts") or []:
        if isinstance(m, dict):
            out.append({"Type": m.get("Type", ""), "Source": m.get("Source", ""), "Destination": m.get("Target", ""),
                        "Mode": "", "RW": not m.get("ReadOnly", False), "Propagation": "rprivate"})
    return out


def inspect(rec: ContainerRecord, size_rw: int | None = None,
            graph_data: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": rec.id, "Created": rec.created, "Path": rec.path, "Args": rec.args,
        "State": rec.state.to_wire(), "Image": rec.image_id, "ResolvConfPath": rec.resolv_conf_path,
        "HostnamePath": rec.hostname_path, "HostsPath": rec.hosts_path, "LogPath": rec.log_path,
        "Name": "/" + rec.name, "RestartCount": rec.restart_count, "Driver": rec.driver,
        "Platform": rec.platform, "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "",
        "ExecIDs": None, "HostConfig": rec.host_config,
        "GraphDriver": {"Name": rec.driver, "Data": {**(graph_data or {}), "MergedDir": rec.mount_point}},
        "Mounts": _mounts(rec), "Config": rec.config,
        "NetworkSettings": {"Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {},
                            "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
                            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None, "EndpointID": "",
                            "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
                            "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "", **_network_settings(rec)},
    }
    if size_rw is not None:
        out["SizeRw"] = size_rw
        out["SizeRootFs"] = size_rw
    return out


def summary(rec: ContainerRecord, size_rw: int | None = None) -> dict[str, Any]:
    command = " ".join([rec.path, *rec.args])
    mode = str(rec.host_config.get("NetworkMode") or "default")
    out: dict[str, Any] = {
        "Id": rec.id, "Names": ["/" + rec.name], "Image": rec.image_name, "ImageID": rec.image_id,
        "Command": command, "Created": rec.created_ns // 1_000_000_000, "Ports": [],
        "Labels": rec.config.get("Labels") or {}, "State": rec.state.status, "Status": status_text(rec),
        "HostConfig": {"NetworkMode": mode}, "NetworkSettings": _network_settings(rec), "Mounts": _mounts(rec),
    }
    if size_rw is not None:
        out["SizeRw"] = size_rw
        out["SizeRootFs"] = size_rw
    return out
