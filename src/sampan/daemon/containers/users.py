"""Resolve a container's `User` ("name", "uid", "name:group", "uid:gid") in its own /etc files.

Docker reads the container's /etc/passwd and /etc/group (never the host's): a name must exist
there, a number need not. Supplementary groups are the groups listing the user by name, only
when no group was given; the primary gid always comes first in additionalGids, like dockerd.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sampan.errdefs import InvalidArgument
from sampan.linux.safepath import secure_join

MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class ResolvedUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = field(default=())
    home: str = "/"


@dataclass(frozen=True)
class _Passwd:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class _Group:
    name: str
    gid: int
    members: tuple[str, ...]


def _read_lines(rootfs: str, rel: str) -> list[list[str]] | None:
    """Colon-split lines of a file inside rootfs; None when it is missing. Symlinks stay inside."""
    try:
        with open(secure_join(rootfs, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as e:
        raise InvalidArgument(f"unable to read /{rel} in the container: {e.strerror}")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line.split(":"))
    return out


def _int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return None


def _passwd(rootfs: str) -> list[_Passwd]:
    entries = []
    for parts in _read_lines(rootfs, "etc/passwd") or []:
        parts += [""] * (7 - len(parts))
        uid, gid = _int(parts[2]), _int(parts[3])
        if uid is None or gid is None:
            continue
        entries.append(_Passwd(parts[0], uid, gid, parts[5]))
    return entries


def _groups(rootfs: str) -> list[_Group]:
    entries = []
    for parts in _read_lines(rootfs, "etc/group") or []:
        parts += [""] * (4 - len(parts))
        gid = _int(parts[2])
        if gid is None:
            continue
        members = tuple(m.strip() for m in parts[3].split(",") if m.strip())
        entries.append(_Group(parts[0], gid, members))
    return entries


def _check_range(value: int) -> int:
    if value > MAX_ID:
        raise InvalidArgument(f"uids and gids must be in range 0-{MAX_ID}")
    return value


def resolve_user(rootfs: str, user: str) -> ResolvedUser:
    """uid, gid, additional gids and home for `user` as seen inside `rootfs`."""
    user_arg, _, group_arg = user.partition(":")
    passwd = _passwd(rootfs)
    uid, gid, home, name = 0, 0, "/", ""
    matched = None
    if user_arg:
        num = _int(user_arg)
        matched = next((p for p in passwd if p.name == user_arg or (num is not None and p.uid == num)), None)
        if matched is None:
            if num is None:
                raise InvalidArgument(f"unable to find user {user_arg}: no matching entries in passwd file")
            uid = _check_range(num)
    else:
        matched = next((p for p in passwd if p.uid == 0), None)
    if matched is not None:
        uid, gid, home, name = matched.uid, matched.gid, matched.home or "/", matched.name
    supplementary: list[int] = []
    if group_arg or name:
        groups = _groups(rootfs)
        if group_arg:
            gnum = _int(group_arg)
            found = next((g for g in groups if g.name == group_arg or (gnum is not None and g.gid == gnum)), None)
            if found is not None:
                gid = found.gid
            elif gnum is not None:
                gid = _check_range(gnum)
            else:
                raise InvalidArgument(f"unable to find group {group_arg}: no matching entries in group file")
        else:
            supplementary = [g.gid for g in groups if name in g.members]
    return ResolvedUser(uid, gid, tuple(supplementary), home)


def resolve_groups(rootfs: str, names: list[str]) -> list[int]:
    """HostConfig.GroupAdd: group names (looked up in the container) or numbers."""
    groups = _groups(rootfs)
    out = []
    for name in names:
        found = next((g for g in groups if g.name == name), None)
        if found is not None:
            out.append(found.gid)
            continue
        num = _int(name)
        if num is None:
            raise InvalidArgument(f"Unable to find group {name}: no matching entries in group file")
        out.append(_check_range(num))
    return out


def additional_gids(resolved: ResolvedUser, group_add: list[int]) -> list[int]:
    """dockerd's order: the primary gid, the user's groups, then GroupAdd (duplicates dropped)."""
    out: list[int] = []
    for gid in (resolved.gid, *resolved.additional_gids, *group_add):
        if gid not in out:
            out.append(gid)
    return out
