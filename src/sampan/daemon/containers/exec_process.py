"""The OCI process object of an exec: the container's own process, changed as `docker exec` asks.

An exec'd process must never get more than the container has: it keeps the container's
capabilities, noNewPrivileges, rlimits, AppArmor/SELinux labels and OOM score (the runtime puts
it in the container's namespaces, cgroup and seccomp filter). Only the command, environment,
working directory, user and tty change; `--privileged` gives every capability, as dockerd does.
"""

from __future__ import annotations

import copy
import os
import posixpath
from collections.abc import Callable
from typing import Any

from .spec_security import all_capabilities, capabilities_object
from .users import additional_gids, resolve_groups, resolve_user

# "USER[:GROUP]" -> the OCI user object {"uid", "gid", "additionalGids"} inside the container.
UserLookup = Callable[[str], dict[str, Any]]

# What an exec inherits unchanged from the container's process.
_INHERITED = ("capabilities", "noNewPrivileges", "rlimits", "apparmorProfile", "oomScoreAdj", "selinuxLabel")
_CAP_SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def exec_process(container_process: dict[str, Any], *, args: list[str], user: str, env: list[str], cwd: str,
                 tty: bool, privileged: bool, passwd_lookup: UserLookup) -> dict[str, Any]:
    """The process for `runtime exec --process`, built from the container's config.json process."""
    if not args:
        raise ValueError("an exec needs a command")
    proc: dict[str, Any] = {k: copy.deepcopy(container_process[k]) for k in _INHERITED if k in container_process}
    proc["terminal"] = tty
    proc["args"] = list(args)
    proc["env"] = exec_env(list(container_process.get("env") or []), env, tty=tty,
                           container_tty=bool(container_process.get("terminal")))
    proc["cwd"] = _cwd(cwd, str(container_process.get("cwd") or "/"))
    if user:
        proc["user"] = passwd_lookup(user)
    else:
        proc["user"] = copy.deepcopy(container_process.get("user") or {"uid": 0, "gid": 0})
    uid = int(proc["user"].get("uid", 0))
    caps = all_capabilities() if privileged else _bounding(container_process)
    proc["capabilities"] = _capabilities(caps, uid, proc.get("capabilities") or {})
    return proc


def exec_env(container_env: list[str], exec_env: list[str], *, tty: bool, container_tty: bool) -> list[str]:
    """The container's environment with the exec's entries replacing same-named ones or appended.

    TERM=xterm follows the exec's tty, not the container's (dockerd adds it per process).
    """
    out = list(container_env)
    if container_tty and not tty and "TERM=xterm" in out:
        out.remove("TERM=xterm")
    if tty and not any(_key(e) == "TERM" for e in out):
        out.append("TERM=xterm")
    for entry in exec_env:
        key = _key(entry)
        if "=" not in entry:  # a bare NAME unsets it in Docker's ReplaceOrAppendEnvValues
            out = [e for e in out if _key(e) != key]
            continue
        for i, existing in enumerate(out):
            if _key(existing) == key:
                out[i] = entry
                break
        else:
            out.append(entry)
    return out


def user_lookup(rootfs: str, group_add: list[str]) -> UserLookup:
    """Resolve an exec's `User` in the container's own /etc/passwd and /etc/group (plus GroupAdd)."""
    def lookup(user: str) -> dict[str, Any]:
        resolved = resolve_user(rootfs, user)
        groups = resolve_groups(rootfs, group_add)
        return {"uid": resolved.uid, "gid": resolved.gid, "additionalGids": additional_gids(resolved, groups)}
    return lookup


def _key(entry: str) -> str:
    return entry.split("=", 1)[0]


def _cwd(cwd: str, container_cwd: str) -> str:
    if not cwd:
        return container_cwd
    return posixpath.normpath(cwd if cwd.startswith("/") else posixpath.join(container_cwd, cwd))


def _bounding(container_process: dict[str, Any]) -> list[str]:
    caps = container_process.get("capabilities") or {}
    return list(caps.get("bounding") or [])


def _capabilities(caps: list[str], uid: int, inherited: dict[str, Any]) -> dict[str, list[str]]:
    """The container's rule for the exec's uid: root gets the set effective, others only bounding.

    Ambient/inheritable sets the container had are kept, limited to the bounding set.
    """
    out = capabilities_object(caps, uid)
    for name in ("inheritable", "ambient"):
        if inherited.get(name):
            out[name] = [c for c in inherited[name] if c in caps]
    return {k: out[k] for k in _CAP_SETS if k in out}


def container_rootfs(bundle: str) -> str:
    return os.path.join(bundle, "rootfs")
