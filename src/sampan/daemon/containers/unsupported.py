"""HostConfig fields this engine cannot honour, refused with the errors dockerd gives on Linux
(instead of being silently dropped): Windows-only IO limits, storage options (overlay2 over
xfs with project quotas only), device requests (GPUs: no device driver here)."""

from __future__ import annotations

from typing import Any

from sampan.errdefs import InvalidArgument, System


def check_create(host_config: dict[str, Any]) -> list[str]:
    """Errors for fields dockerd refuses at create; warnings (as dockerd's) for discarded ones."""
    if host_config.get("IOMaximumBandwidth") or host_config.get("IOMaximumIOps"):
        raise InvalidArgument("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
    if host_config.get("StorageOpt"):
        raise System("--storage-opt is supported only for overlay over xfs with 'pquota' mount option")
    warnings = []
    if host_config.get("CpuPercent"):
        warnings.append("linux does not support CPU percent. Percent discarded.")
    if host_config.get("CpuCount"):
        warnings.append("linux does not support CPU count. Count discarded.")
    return warnings


def check_start(host_config: dict[str, Any]) -> None:
    """dockerd picks a device driver for each request at start; there is none here."""
    for request in host_config.get("DeviceRequests") or []:
        if not isinstance(request, dict):
            continue
        caps = " ".join("[" + " ".join(str(c) for c in group) + "]" for group in request.get("Capabilities") or [])
        raise InvalidArgument(f'could not select device driver "{request.get("Driver") or ""}" with capabilities: '
                              f"[{caps}]")
