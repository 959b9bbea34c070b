"""A container's OCI config.json, generated from its Config and HostConfig the way dockerd does.

Entry point: `generate_spec(SpecInputs)`. The pieces live in spec_*.py (mounts, security,
seccomp, resources, validation) and users.py; this module holds the process (command,
environment, user) and the namespaces, and puts the document together.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field, replace
from typing import Any

from sampan.errdefs import InvalidArgument, System

from . import spec_resources as res
from .defaults import (
    DEFAULT_NAMESPACES,
    DEFAULT_PATH,
    DEFAULT_SHM_SIZE,
    INIT_PATH_IN_CONTAINER,
    MASKED_PATHS,
    OCI_VERSION,
    READONLY_PATHS,
)
from .spec_mounts import prepare_sources, user_mounts
from .spec_mountset import MountInputs, assemble_mounts, rootfs_propagation
from .spec_seccomp import seccomp_for
from .spec_security import capabilities_object, parse_security_opts, tweak_capabilities
from .spec_validate import check_working_dir, validate_config, validate_host_config
from .users import ResolvedUser, additional_gids, resolve_groups, resolve_user

__all__ = [
    "ResolvedUser", "SpecInputs", "apply_host_defaults", "generate_spec", "merge_env", "resolve_command",
    "resolve_user", "validate_config", "validate_host_config",
]


@dataclass(frozen=True)
class SpecInputs:
    container_id: str
    config: dict[str, Any]
    host_config: dict[str, Any]
    image_config: dict[str, Any]
    rootfs: str
    hosts_path: str
    hostname_path: str
    resolv_conf_path: str
    shm_path: str | None
    namespace_paths: dict[str, str] = field(default_factory=dict)
    cgroup_parent: str = "/sampan"
    init_path: str | None = None


def resolve_command(config: dict[str, Any], image_config: dict[str, Any]) -> list[str]:
    """Entrypoint + Cmd with Docker's inheritance: a given Entrypoint (even "") drops the image's Cmd."""
    entrypoint = _strs(config.get("Entrypoint"))
    cmd = _strs(config.get("Cmd")) or []
    if entrypoint is None:
        entrypoint = _strs(image_config.get("Entrypoint")) or []
        if not cmd:
            cmd = _strs(image_config.get("Cmd")) or []
    elif entrypoint == [""]:
        entrypoint = []
    args = [*entrypoint, *cmd]
    if not args:
        raise InvalidArgument("no command specified")
    return args


def _strs(value: Any) -> list[str] | None:
    """The Engine API's string-or-list fields (Go's StrSlice): "a b" is one element, null is None."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _key(item: str) -> str:
    return item.split("=", 1)[0]


def merge_env(image_env: list[str], container_env: list[str]) -> list[str]:
    """The container's variables, then the image's that the container did not set (dockerd's order)."""
    out = list(container_env)
    keys = {_key(e) for e in container_env}
    out += [e for e in image_env if _key(e) not in keys]
    return out


def _replace_or_append(defaults: list[str], overrides: list[str]) -> list[str]:
    """Overrides replace same-named defaults in place; a bare "NAME" unsets it."""
    out: list[str | None] = list(defaults)
    index = {_key(e): i for i, e in enumerate(defaults)}
    for value in overrides:
        if "=" not in value:
            if value in index:
                out[index[value]] = None
            continue
        key = _key(value)
        if key in index and out[index[key]] is not None:
            out[index[key]] = value
        else:
            index[key] = len(out)
            out.append(value)
    return [e for e in out if e is not None]


def apply_host_defaults(host_config: dict[str, Any]) -> dict[str, Any]:
    """HostConfig as dockerd stores it after create: default ShmSize, MemorySwap = 2 x Memory."""
    hc = dict(host_config)
    if not hc.get("ShmSize"):
        hc["ShmSize"] = DEFAULT_SHM_SIZE
    swap = res.memory_swap(hc)
    if swap:
        hc["MemorySwap"] = swap
    return hc


def _hostname(inputs: SpecInputs) -> str:
    hc = inputs.host_config
    if inputs.config.get("Hostname"):
        return str(inputs.config["Hostname"])
    if (hc.get("NetworkMode") or "") == "host" or (hc.get("UTSMode") or "") == "host":
        return os.uname().nodename
    return inputs.container_id[:12]


def _cgroupns_private(mode: str) -> bool:
    if mode:
        return mode == "private"
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")  # private by default only on cgroup v2


def _namespaces(inputs: SpecInputs) -> list[dict[str, str]]:
    hc = inputs.host_config
    modes = {"network": hc.get("NetworkMode") or "", "uts": hc.get("UTSMode") or "",
             "pid": hc.get("PidMode") or "", "ipc": hc.get("IpcMode") or ""}
    out = []
    for kind in DEFAULT_NAMESPACES:
        mode = modes.get(kind, "")
        if mode == "host":
            continue
        if mode.startswith("container:"):
            path = inputs.namespace_paths.get(kind)
            if not path:
                raise InvalidArgument(f"cannot join the {kind} namespace of {mode[len('container:'):]}: "
                                      "the container is not running")
            out.append({"type": kind, "path": path})
            continue
        out.append({"type": kind})
    if _cgroupns_private(hc.get("CgroupnsMode") or ""):
        out.append({"type": "cgroup"})
    return out


def _process(inputs: SpecInputs, hostname: str, caps: list[str], security_nnp: bool) -> dict[str, Any]:
    config, image, hc = inputs.config, inputs.image_config, inputs.host_config
    args = resolve_command(config, image)
    if hc.get("Init"):
        if not inputs.init_path:
            raise System('exec: "docker-init": executable file not found in $PATH (HostConfig.Init needs one)')
        args = [INIT_PATH_IN_CONTAINER, "--", *args]
    tty = bool(config.get("Tty"))
    base = [DEFAULT_PATH, f"HOSTNAME={hostname}"] + (["TERM=xterm"] if tty else [])
    env = _replace_or_append(base, merge_env(list(image.get("Env") or []), list(config.get("Env") or [])))
    user = resolve_user(inputs.rootfs, str(config.get("User") or image.get("User") or ""))
    groups = resolve_groups(inputs.rootfs, [str(g) for g in hc.get("GroupAdd") or []])
    workdir = config.get("WorkingDir") or image.get("WorkingDir") or "/"
    proc: dict[str, Any] = {"terminal": True} if tty else {}
    proc.update({
        "user": {"uid": user.uid, "gid": user.gid, "additionalGids": additional_gids(user, groups)},
        "args": args,
        "env": env,
        "cwd": posixpath.normpath(workdir) if workdir.startswith("/") else "/" + workdir,
        "capabilities": capabilities_object(caps, user.uid),
    })
    size = hc.get("ConsoleSize") or [0, 0]
    if tty and len(size) == 2 and (size[0] or size[1]):
        proc["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}
    if security_nnp:
        proc["noNewPrivileges"] = True
    rlimits = res.rlimits(hc)
    if rlimits:
        proc["rlimits"] = rlimits
    proc["oomScoreAdj"] = int(hc.get("OomScoreAdj") or 0)
    return proc


def generate_spec(inputs: SpecInputs) -> dict[str, Any]:
    """The OCI config.json (as a dict) for a container; creates missing Binds sources like dockerd."""
    hc = apply_host_defaults(inputs.host_config)
    inputs = replace(inputs, host_config=hc)
    validate_host_config(hc)
    check_working_dir(inputs.config)
    privileged = bool(hc.get("Privileged"))
    security = parse_security_opts(list(hc.get("SecurityOpt") or []))
    caps = tweak_capabilities(list(hc.get("CapAdd") or []), list(hc.get("CapDrop") or []), privileged)
    hostname = _hostname(inputs)
    mounts = user_mounts(hc)
    network_mode = hc.get("NetworkMode") or ""
    spec: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": _process(inputs, hostname, caps, security.no_new_privileges),
        "root": {"path": inputs.rootfs},
    }
    if hc.get("ReadonlyRootfs"):
        spec["root"]["readonly"] = True
    namespaces = _namespaces(inputs)
    if any(ns["type"] == "uts" and "path" not in ns for ns in namespaces):
        spec["hostname"] = hostname
        if inputs.config.get("Domainname"):
            spec["domainname"] = str(inputs.config["Domainname"])
    prepare_sources(mounts)
    spec["mounts"] = assemble_mounts(MountInputs(
        user=mounts, privileged=privileged, readonly_rootfs=bool(hc.get("ReadonlyRootfs")),
        ipc_mode=hc.get("IpcMode") or "", shm_path=inputs.shm_path, shm_size=int(hc["ShmSize"]),
        hosts_path=inputs.hosts_path, hostname_path=inputs.hostname_path,
        resolv_conf_path=inputs.resolv_conf_path, init_path=inputs.init_path if hc.get("Init") else None))
    spec["linux"] = _linux(inputs, hc, namespaces, caps, privileged, security.seccomp, network_mode, mounts)
    return spec


def _linux(inputs: SpecInputs, hc: dict[str, Any], namespaces: list[dict[str, str]], caps: list[str],
           privileged: bool, seccomp_opt: str, network_mode: str, mounts: list[Any]) -> dict[str, Any]:
    linux: dict[str, Any] = {}
    sysctl = res.sysctls(hc, network_mode)
    if sysctl:
        linux["sysctl"] = sysctl
    nodes, rules = res.device_config(hc)
    linux["resources"] = {"devices": rules, **res.resources(hc)}
    parent = hc.get("CgroupParent") or inputs.cgroup_parent
    linux["cgroupsPath"] = posixpath.join("/" + parent.strip("/"), inputs.container_id) if parent.strip("/") \
        else "/" + inputs.container_id
    linux["namespaces"] = namespaces
    if nodes:
        linux["devices"] = nodes
    seccomp = seccomp_for(seccomp_opt, privileged, caps)
    if seccomp is not None:
        from sampan.runtime.seccomp.profile import validate

        validate(seccomp)
        linux["seccomp"] = seccomp
    propagation = rootfs_propagation(mounts)
    if propagation:
        linux["rootfsPropagation"] = propagation
    if not privileged:
        masked = hc.get("MaskedPaths")
        readonly = hc.get("ReadonlyPaths")
        masked = list(MASKED_PATHS) if masked is None else list(masked)
        readonly = list(READONLY_PATHS) if readonly is None else list(readonly)
        if masked:
            linux["maskedPaths"] = masked
        if readonly:
            linux["readonlyPaths"] = readonly
    return linux
