"""A Docker seccomp profile (ours by default, or one sent in SecurityOpt) -> OCI `linux.seccomp`.

dockerd resolves the profile's conditions before it writes config.json: `archMap` becomes the
native architecture and its sub-architectures, and a rule stays only if the container's bounding
capabilities, the machine's architecture (Go's name for it) and the kernel version satisfy its
`includes` and `excludes`. We do the same so the runtime gets a plain OCI object.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sampan.errdefs import InvalidArgument

from . import seccomp_profile

UNCONFINED = "unconfined"
BUILTIN = "builtin"

# uname machine -> (libseccomp name, Go's GOARCH as used by the profile's `arches` conditions)
_MACHINES: dict[str, tuple[str, str]] = {
    "x86_64": ("SCMP_ARCH_X86_64", "amd64"),
    "aarch64": ("SCMP_ARCH_AARCH64", "arm64"),
    "armv7l": ("SCMP_ARCH_ARM", "arm"),
    "armv6l": ("SCMP_ARCH_ARM", "arm"),
    "i686": ("SCMP_ARCH_X86", "386"),
    "i386": ("SCMP_ARCH_X86", "386"),
    "ppc64le": ("SCMP_ARCH_PPC64LE", "ppc64le"),
    "s390x": ("SCMP_ARCH_S390X", "s390x"),
    "riscv64": ("SCMP_ARCH_RISCV64", "riscv64"),
    "loongarch64": ("SCMP_ARCH_LOONGARCH64", "loong64"),
    "mips64": ("SCMP_ARCH_MIPS64", "mips64"),
}


def native_arch(machine: str | None = None) -> tuple[str, str]:
    """(SCMP arch, GOARCH) of this machine (or of a uname `machine`)."""
    machine = machine or os.uname().machine
    return _MACHINES.get(machine, ("SCMP_ARCH_" + machine.upper(), machine))


def default_profile() -> dict[str, Any]:
    """Our default profile in Docker's profile JSON shape (archMap, includes/excludes)."""
    rules = []
    for names, action, errno_ret, args, includes, excludes in seccomp_profile.RULES:
        rule: dict[str, Any] = {"names": list(names), "action": action}
        if errno_ret is not None:
            rule["errnoRet"] = errno_ret
        if args:
            rule["args"] = [{"index": i, "value": v, "valueTwo": v2, "op": op} for i, v, v2, op in args]
        if includes:
            rule["includes"] = {k: list(v) if isinstance(v, tuple) else v for k, v in includes.items()}
        if excludes:
            rule["excludes"] = {k: list(v) if isinstance(v, tuple) else v for k, v in excludes.items()}
        rules.append(rule)
    doc: dict[str, Any] = {"defaultAction": seccomp_profile.DEFAULT_ACTION}
    if seccomp_profile.DEFAULT_ERRNO_RET is not None:
        doc["defaultErrnoRet"] = seccomp_profile.DEFAULT_ERRNO_RET
    doc["archMap"] = [{"architecture": arch, "subArchitectures": list(subs)}
                      for arch, subs in seccomp_profile.ARCH_MAP.items()]
    doc["syscalls"] = rules
    return doc


def load_profile(content: str) -> dict[str, Any]:
    """A profile as the CLI sends it in `seccomp=<file contents>`."""
    try:
        doc = json.loads(content)
    except ValueError as e:
        raise InvalidArgument(f"Decoding seccomp profile failed: {e}")
    if not isinstance(doc, dict):
        raise InvalidArgument("Decoding seccomp profile failed: the profile is not a JSON object")
    return doc


def _kernel_tuple(text: str) -> tuple[int, ...]:
    nums = []
    for piece in text.split("-", 1)[0].split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        nums.append(int(digits or 0))
    return tuple(nums)


def _keep(rule: dict[str, Any], caps: frozenset[str], goarch: str, kernel: tuple[int, ...]) -> bool:
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if exc.get("arches") and goarch in exc["arches"]:
        return False
    if inc.get("arches") and goarch not in inc["arches"]:
        return False
    if exc.get("caps") and any(c in caps for c in exc["caps"]):
        return False
    if inc.get("caps") and not all(c in caps for c in inc["caps"]):
        return False
    return not (inc.get("minKernel") and kernel < _kernel_tuple(str(inc["minKernel"])))


def resolve(profile: dict[str, Any], capabilities: list[str], *, machine: str | None = None,
            kernel: str | None = None) -> dict[str, Any]:
    """The OCI seccomp object for a container with these bounding capabilities."""
    if profile.get("architectures") and profile.get("archMap"):
        raise InvalidArgument("both 'architectures' and 'archMap' are specified in the seccomp profile, "
                              "use either 'architectures' or 'archMap'")
    scmp_arch, goarch = native_arch(machine)
    out: dict[str, Any] = {"defaultAction": profile.get("defaultAction", "")}
    if profile.get("defaultErrnoRet") is not None:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    arches = list(profile.get("architectures") or [])
    for entry in profile.get("archMap") or []:
        if isinstance(entry, dict) and entry.get("architecture") == scmp_arch:
            arches += [scmp_arch, *(entry.get("subArchitectures") or [])]
    if arches:
        out["architectures"] = arches
    for key in ("flags", "listenerPath", "listenerMetadata"):
        if profile.get(key):
            out[key] = profile[key]
    caps = frozenset(capabilities)
    release = _kernel_tuple(kernel or os.uname().release)
    syscalls = []
    for i, rule in enumerate(profile.get("syscalls") or []):
        if not isinstance(rule, dict):
            raise InvalidArgument(f"Decoding seccomp profile failed: syscalls[{i}] is not an object")
        names = list(rule.get("names") or [])
        if rule.get("name"):
            if names:
                raise InvalidArgument("'name' and 'names' were specified in the seccomp profile, "
                                      "use either 'name' or 'names'")
            names = [rule["name"]]
        if not _keep(rule, caps, goarch, release):
            continue
        call: dict[str, Any] = {"names": names, "action": rule.get("action", "")}
        if rule.get("errnoRet") is not None:
            call["errnoRet"] = rule["errnoRet"]
        args = [_arg(a) for a in rule.get("args") or []]
        if args:
            call["args"] = args
        syscalls.append(call)
    out["syscalls"] = syscalls
    return out


def _arg(arg: dict[str, Any]) -> dict[str, Any]:
    out = {"index": arg.get("index", 0), "value": arg.get("value", 0)}
    if arg.get("valueTwo"):
        out["valueTwo"] = arg["valueTwo"]
    out["op"] = arg.get("op", "")
    return out


def seccomp_for(profile_opt: str, privileged: bool, capabilities: list[str]) -> dict[str, Any] | None:
    """`profile_opt` is SecurityOpt's seccomp value ("" for the default); None means unconfined."""
    if profile_opt == UNCONFINED or (privileged and profile_opt in ("", BUILTIN)):
        return None
    profile = default_profile() if profile_opt in ("", BUILTIN) else load_profile(profile_opt)
    return resolve(profile, capabilities)
