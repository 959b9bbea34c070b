"""The container's whole mount list: Docker's defaults, the user's mounts, /dev/shm, the /etc files.

dockerd drops a default mount when the user mounts over the same destination (and every /dev/*
default when the user mounts /dev), sorts the container's own mounts by path depth so parents
come before children, and makes the /etc files read-only with a read-only rootfs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sampan.errdefs import InvalidArgument

from .defaults import INIT_PATH_IN_CONTAINER, default_mounts
from .spec_mounts import DEFAULT_PROPAGATION, UserMount


@dataclass(frozen=True)
class MountInputs:
    user: list[UserMount]
    privileged: bool
    readonly_rootfs: bool
    ipc_mode: str
    shm_path: str | None
    shm_size: int
    hosts_path: str
    hostname_path: str
    resolv_conf_path: str
    init_path: str | None = None


def _depth(dest: str) -> int:
    return len(os.path.normpath(dest).split("/"))


def _oci(u: UserMount) -> dict[str, Any]:
    return {"destination": u.destination, "type": u.type, "source": u.source, "options": list(u.options)}


def _bind(dest: str, source: str, readonly: bool) -> dict[str, Any]:
    opts = ["rbind"] + (["ro"] if readonly else []) + [DEFAULT_PROPAGATION]
    return {"destination": dest, "type": "bind", "source": source, "options": opts}


def assemble_mounts(m: MountInputs) -> list[dict[str, Any]]:
    """The OCI `mounts` list in dockerd's order."""
    wanted = {u.destination for u in m.user}
    no_shm = m.ipc_mode == "none"
    out = []
    for mount in default_mounts():
        dest = mount["destination"]
        if dest in wanted or ("/dev" in wanted and dest.startswith("/dev/")):
            continue
        if m.privileged and dest in ("/sys", "/sys/fs/cgroup"):
            mount["options"] = [o for o in mount["options"] if o != "ro"]
        out.append(mount)
    # dockerd's order before its (stable) sort by depth: volumes and binds, the /etc files,
    # the IPC mount, then HostConfig.Tmpfs.
    own = [_oci(u) for u in m.user if u.field_name != "Tmpfs"]
    for dest, source in (("/etc/resolv.conf", m.resolv_conf_path), ("/etc/hostname", m.hostname_path),
                         ("/etc/hosts", m.hosts_path)):
        if dest not in wanted and source:
            own.append(_bind(dest, source, m.readonly_rootfs))
    if "/dev/shm" not in wanted and not no_shm and "/dev" not in wanted:
        if m.ipc_mode == "host":
            own.append(_bind("/dev/shm", "/dev/shm", False))
        elif m.shm_path:
            own.append(_bind("/dev/shm", m.shm_path, False))
        else:
            out.append({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                        "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={m.shm_size}"]})
    own += [_oci(u) for u in m.user if u.field_name == "Tmpfs"]
    own.sort(key=lambda x: _depth(x["destination"]))
    if m.init_path:
        out.append({"destination": INIT_PATH_IN_CONTAINER, "type": "bind", "source": m.init_path,
                    "options": ["bind", "ro"]})
    out += own
    return out


def rootfs_propagation(user: list[UserMount], mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """"shared" when a bind is shared, "rslave" when one is a slave, else None (the runtime's default).

    Like dockerd, the bind's source must sit on a mount that can propagate that way."""
    result: str | None = None
    for u in user:
        if u.type != "bind":
            continue
        if u.propagation in ("shared", "rshared"):
            _ensure_propagation(u.source, ("shared",), mountinfo, "a shared mount")
            result = "shared"
        elif u.propagation in ("slave", "rslave"):
            _ensure_propagation(u.source, ("shared", "master"), mountinfo, "a shared or slave mount")
            if result != "shared":
                result = "rslave"
    return result


def _ensure_propagation(source: str, tags: tuple[str, ...], mountinfo: str, what: str) -> None:
    try:
        with open(mountinfo) as f:
            lines = f.read().splitlines()
    except OSError:
        return
    path = os.path.realpath(source)
    best, best_fields = "", [""]
    for line in lines:
        fields = line.split()
        if len(fields) < 7:
            continue
        point = fields[4].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_fields = point, fields
    optional = best_fields[6:best_fields.index("-")] if "-" in best_fields else []
    if not any(opt.split(":")[0] in tags for opt in optional):
        raise InvalidArgument(f"path {source} is mounted on {best} but it is not {what}")
