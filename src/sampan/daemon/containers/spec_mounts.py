"""HostConfig.Binds, Mounts and Tmpfs -> OCI mounts, merged with Docker's defaults and ordered.

Parsing (`user_mounts`) touches nothing on disk except to check that a `Mounts` bind source
exists, so the service can validate before it creates anything; `prepare_sources` then creates
missing `Binds` sources as directories, like dockerd does for `-v /missing:/x`.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import Any

from sampan.errdefs import InvalidArgument, NotImplementedFeature

PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
DEFAULT_PROPAGATION = "rprivate"
_LABEL_MODES = ("z", "Z")
# tmpfs flags that collide (the later one wins) and the data keys tmpfs accepts
_FLAG_GROUPS: dict[str, str] = {}
for _a, _b in (("ro", "rw"), ("noexec", "exec"), ("nosuid", "suid"), ("nodev", "dev"), ("sync", "async"),
               ("noatime", "atime"), ("nodiratime", "diratime"), ("relatime", "norelatime"),
               ("strictatime", "nostrictatime"), ("dirsync", ""), ("mand", "nomand"), ("remount", "")):
    _FLAG_GROUPS[_a] = _a
    if _b:
        _FLAG_GROUPS[_b] = _a
for _p in (*PROPAGATIONS, "unbindable", "runbindable"):
    _FLAG_GROUPS[_p] = "propagation"
_TMPFS_DATA = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")


@dataclass(frozen=True)
class UserMount:
    """A mount the user asked for, validated; `create` marks a Binds source dockerd would create."""

    destination: str
    type: str
    source: str
    options: tuple[str, ...]
    propagation: str = ""
    create: bool = False
    field_name: str = field(default="Binds", compare=False)  # Binds, Mounts or Tmpfs: decides the order


def _mount_error(kind: str, message: str) -> InvalidArgument:
    return InvalidArgument(f'invalid mount config for type "{kind}": {message}')


def _check_destination(kind: str, dest: str) -> str:
    if not dest:
        raise _mount_error(kind, "field Target must not be empty")
    if not dest.startswith("/"):
        raise _mount_error(kind, f"invalid mount path: '{dest}' mount path must be absolute")
    clean = posixpath.normpath(dest)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    if clean == "/":
        raise _mount_error(kind, "invalid specification: destination can't be '/'")
    return clean


def _valid_mode(mode: str) -> bool:
    if not mode:
        return True
    counts = {"rw": 0, "label": 0, "propagation": 0, "copy": 0}
    for part in mode.split(","):
        if part in ("rw", "ro"):
            counts["rw"] += 1
        elif part in _LABEL_MODES:
            counts["label"] += 1
        elif part in PROPAGATIONS:
            counts["propagation"] += 1
        elif part == "nocopy":
            counts["copy"] += 1
        else:
            return False
    return all(n <= 1 for n in counts.values())


def parse_bind(raw: str) -> UserMount:
    """One `Binds` entry: "src:dst[:mode]" with dockerd's checks and messages."""
    parts = raw.split(":")
    if not parts[0] or len(parts) > 3:
        raise InvalidArgument(f"invalid volume specification: '{raw}'")
    if len(parts) == 1:
        raise NotImplementedFeature(f"volumes are not supported yet: anonymous volume '{raw}'")
    if len(parts) == 2 and _valid_mode(parts[1]):
        raise InvalidArgument(f"invalid volume specification: '{raw}'")
    source, dest = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    if not _valid_mode(mode):
        raise InvalidArgument(f"invalid mode: {mode}")
    if not source.startswith("/"):
        raise NotImplementedFeature(f"volumes are not supported yet: named volume '{source}' in '{raw}'")
    try:
        dest = _check_destination("bind", dest)
    except InvalidArgument as e:
        raise InvalidArgument(f"invalid volume specification: '{raw}': {e}")
    modes = mode.split(",") if mode else []
    propagation = next((m for m in modes if m in PROPAGATIONS), DEFAULT_PROPAGATION)
    opts = ["rbind"] + (["ro"] if "ro" in modes else [])
    return UserMount(dest, "bind", posixpath.normpath(source), (*opts, propagation), propagation, create=True)


def tmpfs_size_option(size: int) -> str:
    """SizeBytes as dockerd writes it: the largest of k/m/g that divides it evenly."""
    suffix = ""
    for unit in ("k", "m", "g"):
        if size % 1024 != 0:
            break
        size //= 1024
        suffix = unit
    return f"size={size}{suffix}"


def merge_tmpfs_options(options: list[str]) -> list[str]:
    """Later options win over earlier ones of the same kind (exec over noexec, size over size)."""
    seen: set[str] = set()
    out: list[str] = []
    for option in reversed(options):
        if option == "defaults":
            continue
        if option in _FLAG_GROUPS:
            key = "flag:" + _FLAG_GROUPS[option]
        else:
            name, eq, _ = option.partition("=")
            if not eq or name not in _TMPFS_DATA:
                raise InvalidArgument(f'invalid tmpfs option ["{option}"]')
            key = "data:" + name
        if key not in seen:
            seen.add(key)
            out.insert(0, option)
    return out


def _tmpfs(dest: str, data: str, field_name: str) -> UserMount:
    options = ["noexec", "nosuid", "nodev", DEFAULT_PROPAGATION] + ([o for o in data.split(",") if o] if data else [])
    return UserMount(dest, "tmpfs", "tmpfs", tuple(merge_tmpfs_options(options)), field_name=field_name)


def parse_api_mount(m: dict[str, Any]) -> UserMount:
    """One `HostConfig.Mounts` entry (type bind or tmpfs)."""
    if not isinstance(m, dict):
        raise InvalidArgument("invalid mount config: want an object")
    kind = m.get("Type") or ""
    if kind == "volume":
        raise NotImplementedFeature('invalid mount config for type "volume": volumes are not supported yet')
    if kind not in ("bind", "tmpfs"):
        raise _mount_error(kind, "mount type unknown")
    dest = _check_destination(kind, m.get("Target") or "")
    source = m.get("Source") or ""
    readonly = bool(m.get("ReadOnly"))
    if m.get("VolumeOptions"):
        raise _mount_error(kind, "field VolumeOptions must not be specified")
    if kind == "tmpfs":
        if source:
            raise _mount_error(kind, "field Source must not be specified")
        if m.get("BindOptions"):
            raise _mount_error(kind, "field BindOptions must not be specified")
        topts = m.get("TmpfsOptions") or {}
        data = ["ro"] if readonly else []
        if topts.get("Mode"):
            data.append(f"mode={int(topts['Mode']) & 0o7777:o}")
        if topts.get("SizeBytes"):
            if int(topts["SizeBytes"]) < 0:
                raise _mount_error(kind, "invalid tmpfs size")
            data.append(tmpfs_size_option(int(topts["SizeBytes"])))
        for extra in topts.get("Options") or []:
            data.append("=".join(str(x) for x in extra) if isinstance(extra, list) else str(extra))
        return _tmpfs(dest, ",".join(data), "Mounts")
    if m.get("TmpfsOptions"):
        raise _mount_error(kind, "field TmpfsOptions must not be specified")
    if not source:
        raise _mount_error(kind, "field Source must not be empty")
    if not source.startswith("/"):
        raise _mount_error(kind, f"invalid mount path: '{source}' mount path must be absolute")
    bopts = m.get("BindOptions") or {}
    propagation = bopts.get("Propagation") or DEFAULT_PROPAGATION
    if propagation not in PROPAGATIONS:
        raise _mount_error(kind, f"invalid propagation mode: {propagation}")
    create = bool(bopts.get("CreateMountpoint"))
    if not create and not os.path.exists(source):
        raise _mount_error(kind, f"bind source path does not exist: {source}")
    opts = ["bind" if bopts.get("NonRecursive") else "rbind"] + (["ro"] if readonly else [])
    return UserMount(dest, "bind", posixpath.normpath(source), (*opts, propagation), propagation,
                     create=create, field_name="Mounts")


def user_mounts(host_config: dict[str, Any]) -> list[UserMount]:
    """Binds, Mounts and Tmpfs validated together (a destination may appear once)."""
    out = [parse_bind(b) for b in host_config.get("Binds") or []]
    out += [parse_api_mount(m) for m in host_config.get("Mounts") or []]
    for dest, data in (host_config.get("Tmpfs") or {}).items():
        out.append(_tmpfs(_check_destination("tmpfs", dest), data or "", "Tmpfs"))
    seen: set[str] = set()
    for m in out:
        if m.destination in seen:
            raise InvalidArgument(f"Duplicate mount point: {m.destination}")
        seen.add(m.destination)
    return out


def prepare_sources(mounts: list[UserMount]) -> None:
    """Create missing bind sources dockerd would create (Binds, CreateMountpoint)."""
    for m in mounts:
        if m.type == "bind" and m.create and not os.path.lexists(m.source):
            try:
                os.makedirs(m.source, mode=0o755, exist_ok=True)
            except OSError as e:
                raise InvalidArgument(f"error while creating mount source path '{m.source}': {e.strerror}")
