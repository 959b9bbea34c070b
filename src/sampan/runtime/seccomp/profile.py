"""Checking an OCI `linux.seccomp` object (or a Docker profile) and reducing it to plain rules.

Docker profiles add `archMap`, `name` and conditional rules (`includes`/`excludes` on capabilities,
architectures and kernel version); they are resolved here the way dockerd does before it writes
the OCI config, for one target architecture and capability set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sampan import errdefs

from .consts import ACTIONS, ARCHES, FLAGS, GOARCH, OPERATORS, RET_DATA, WITH_DATA

log = logging.getLogger(__name__)

U64 = 2**64 - 1
DOCKER_DEFAULT_CAPS = frozenset({
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
})


@dataclass(frozen=True)
class Arg:
    index: int
    op: str
    value: int
    value_two: int = 0


@dataclass(frozen=True)
class Rule:
    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None
    args: tuple[Arg, ...] = ()


@dataclass
class Profile:
    default_action: str
    default_errno: int | None
    architectures: list[str]
    flags: list[str]
    rules: list[Rule] = field(default_factory=list)


def _bad(message: str) -> errdefs.InvalidArgument:
    return errdefs.InvalidArgument(f"invalid seccomp profile: {message}")


def _uint(value: Any, where: str, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise _bad(f"{where}: {value!r} is not an integer in 0..{hi}")
    return value


def _action(name: Any, where: str) -> str:
    if name not in ACTIONS:
        raise _bad(f"{where}: {name!r} is not a valid seccomp action")
    if name == "SCMP_ACT_NOTIFY":
        raise errdefs.NotImplementedFeature(f"seccomp {where}: SCMP_ACT_NOTIFY (user notification) is not supported")
    return str(name)


def _arg(obj: Any, where: str) -> Arg:
    if not isinstance(obj, dict):
        raise _bad(f"{where}: want an object")
    op = obj.get("op")
    if op not in OPERATORS:
        raise _bad(f"{where}.op: {op!r} is not a valid seccomp operator")
    return Arg(_uint(obj.get("index"), f"{where}.index", 5), op, _uint(obj.get("value", 0), f"{where}.value", U64),
               _uint(obj.get("valueTwo", 0) or 0, f"{where}.valueTwo", U64))


def _rule(obj: Any, where: str) -> Rule:
    if not isinstance(obj, dict):
        raise _bad(f"{where}: want an object")
    names = obj.get("names")
    if names is None and isinstance(obj.get("name"), str):
        names = [obj["name"]]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise _bad(f"{where}.names: want a list of syscall names")
    action = _action(obj.get("action"), f"{where}.action")
    errno_ret = obj.get("errnoRet")
    if errno_ret is not None:
        _uint(errno_ret, f"{where}.errnoRet", RET_DATA)
        if action not in WITH_DATA:
            raise _bad(f"{where}.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value")
    args = obj.get("args") or []
    if not isinstance(args, list):
        raise _bad(f"{where}.args: want a list")
    return Rule(tuple(names), action, errno_ret, tuple(_arg(a, f"{where}.args[{i}]") for i, a in enumerate(args)))


def validate(seccomp: dict[str, Any]) -> None:
    """Raise InvalidArgument (NotImplementedFeature for SCMP_ACT_NOTIFY) for a bad profile."""
    parse(seccomp)


def parse(seccomp: dict[str, Any]) -> Profile:
    """The profile as dataclasses, Docker's conditional rules still in `_conditions` form."""
    if not isinstance(seccomp, dict):
        raise _bad("want an object")
    default = _action(seccomp.get("defaultAction"), "defaultAction")
    default_errno = seccomp.get("defaultErrnoRet")
    if default_errno is not None:
        _uint(default_errno, "defaultErrnoRet", RET_DATA)
    arches = seccomp.get("architectures") or []
    if not isinstance(arches, list):
        raise _bad("architectures: want a list")
    for arch in arches:
        if arch not in ARCHES:
            raise _bad(f"architectures: {arch!r} is not a valid seccomp architecture")
    for entry in seccomp.get("archMap") or []:
        for arch in [entry.get("architecture"), *(entry.get("subArchitectures") or [])]:
            if arch not in ARCHES:
                raise _bad(f"archMap: {arch!r} is not a valid seccomp architecture")
    flags = seccomp.get("flags") or []
    if not isinstance(flags, list):
        raise _bad("flags: want a list")
    for flag in flags:
        if flag not in FLAGS:
            raise _bad(f"flags: {flag!r} is not a supported seccomp filter flag")
    syscalls = seccomp.get("syscalls") or []
    if not isinstance(syscalls, list):
        raise _bad("syscalls: want a list")
    rules = [_rule(obj, f"syscalls[{i}]") for i, obj in enumerate(syscalls)]
    return Profile(default, default_errno, list(arches), list(flags), rules)


def _kernel_at_least(want: str, release: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        nums = []
        for piece in text.split("-", 1)[0].split(".")[:3]:
            digits = "".join(ch for ch in piece if ch.isdigit())
            nums.append(int(digits or 0))
        return tuple(nums)

    return parts(release) >= parts(want)


def resolve(seccomp: dict[str, Any], arch: str, capabilities: Iterable[str] | None = None,
            kernel: str | None = None) -> Profile:
    """Parse, then apply Docker's profile extras for the native `arch` (SCMP name).

    `capabilities` (Docker's default set when None) and `kernel` (this one when None) decide the
    conditional rules; a plain OCI object passes through unchanged."""
    profile = parse(seccomp)
    if not profile.architectures:
        for entry in seccomp.get("archMap") or []:
            if entry.get("architecture") == arch:
                profile.architectures = [arch, *(entry.get("subArchitectures") or [])]
    caps = DOCKER_DEFAULT_CAPS if capabilities is None else frozenset(capabilities)
    release = kernel or os.uname().release
    goarch = GOARCH.get(arch, arch)
    kept = []
    for obj, rule in zip(seccomp.get("syscalls") or [], profile.rules, strict=True):
        inc, exc = obj.get("includes") or {}, obj.get("excludes") or {}
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if inc.get("arches") and goarch not in inc["arches"]:
            continue
        if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"], release):
            continue
        if exc.get("caps") and set(exc["caps"]) & caps:
            continue
        if exc.get("arches") and goarch in exc["arches"]:
            continue
        kept.append(rule)
    profile.rules = kept
    return profile
