"""Capabilities and SecurityOpt: Docker's CapAdd/CapDrop arithmetic and its security options.

CapAdd/CapDrop accept names with or without the CAP_ prefix, in any case, and "ALL". A
privileged container gets every capability the kernel knows that the daemon itself holds
(dockerd asks for the kernel's whole list; here root may lack some, and asking for them would
make every privileged container fail to start).
"""

from __future__ import annotations

from dataclasses import dataclass

from sampan.errdefs import InvalidArgument
from sampan.linux.caps import CAPABILITIES, last_cap

from .defaults import DEFAULT_CAPABILITIES

ALL = "ALL"


def all_capabilities() -> list[str]:
    """Every capability this kernel knows and this process may hand down, in number order."""
    top = last_cap()
    bounding = _own_bounding()
    return [name for name, num in sorted(CAPABILITIES.items(), key=lambda kv: kv[1])
            if num <= top and (bounding is None or bounding >> num & 1)]


def _own_bounding() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    return int(line.split()[1], 16)
    except OSError:
        return None
    return None


def normalize_capabilities(names: list[str]) -> list[str]:
    """"sys_admin", "CAP_SYS_ADMIN", "all" -> canonical names; unknown -> Docker's error."""
    out = []
    for raw in names:
        name = raw.upper()
        if name == ALL:
            out.append(ALL)
            continue
        if not name.startswith("CAP_"):
            name = "CAP_" + name
        if name not in CAPABILITIES:
            raise InvalidArgument(f'unknown capability: "{name}"')
        out.append(name)
    return out


def tweak_capabilities(adds: list[str], drops: list[str], privileged: bool,
                       basics: tuple[str, ...] = DEFAULT_CAPABILITIES) -> list[str]:
    """The container's capability list from the defaults, CapAdd, CapDrop and Privileged."""
    if privileged:
        return all_capabilities()
    if not adds and not drops:
        return list(basics)
    cap_drop = normalize_capabilities(drops)
    cap_add = normalize_capabilities(adds)
    if ALL in cap_add:
        caps = [c for c in all_capabilities() if c not in cap_drop]
    elif ALL in cap_drop:
        caps = [c for c in cap_add if c != ALL]
    else:
        caps = [c for c in basics if c not in cap_drop] + cap_add
    out: list[str] = []
    for cap in caps:
        if cap not in out:
            out.append(cap)
    return out


def capabilities_object(caps: list[str], uid: int) -> dict[str, list[str]]:
    """Root gets the list as bounding, effective and permitted; others only bounding (as execve would)."""
    if uid == 0:
        return {"bounding": list(caps), "effective": list(caps), "permitted": list(caps)}
    return {"bounding": list(caps)}


@dataclass(frozen=True)
class SecurityOptions:
    no_new_privileges: bool = False
    seccomp: str = ""       # "" (default), "unconfined", "builtin" or a profile's JSON text
    apparmor: str = ""      # accepted and recorded; sampan does not load AppArmor profiles
    labels: tuple[str, ...] = ()


def parse_security_opts(opts: list[str]) -> SecurityOptions:
    """HostConfig.SecurityOpt with dockerd's parsing and error wording."""
    nnp, seccomp, apparmor, labels = False, "", "", []
    for opt in opts:
        if opt == "no-new-privileges":
            nnp = True
            continue
        if opt == "disable":
            labels.append("disable")
            continue
        if "=" in opt:
            key, _, value = opt.partition("=")
        elif ":" in opt:
            key, _, value = opt.partition(":")
        else:
            raise InvalidArgument(f'invalid --security-opt 1: "{opt}"')
        if key == "label":
            labels.append(value)
        elif key == "apparmor":
            apparmor = value
        elif key == "seccomp":
            seccomp = value
        elif key == "no-new-privileges":
            nnp = _parse_bool(value, opt)
        else:
            raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
    return SecurityOptions(nnp, seccomp, apparmor, tuple(labels))


def _parse_bool(value: str, opt: str) -> bool:
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
