"""Parsing of the process, mounts and linux sections of config.json (see config.py)."""

from __future__ import annotations

from sampan.runtime.config import (
    NAMESPACES,
    PERSONALITY,
    RLIMITS,
    Capabilities,
    Device,
    IDMapping,
    Linux,
    Mount,
    Namespace,
    Process,
    R,
    Rlimit,
    User,
    check_capabilities,
)
from sampan.runtime.mountopts import PROPAGATION, parse_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

_CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def parse_process(d: Any, path: str) -> Process:
    p = R.obj(d, path)
    args = R.strs(p, "args", path)
    if not args:
        raise R.fail(f"{path}.args", "args must not be empty")
    cwd = R.str_(p, "cwd", path, "/") or "/"
    if not cwd.startswith("/"):
        raise R.fail(f"{path}.cwd", f"cwd must be an absolute path, got {cwd!r}")
    env = R.strs(p, "env", path)
    for i, e in enumerate(env):
        if "=" not in e:
            raise R.fail(f"{path}.env[{i}]", f"expected KEY=value, got {e!r}")
    u = R.obj(p.get("user"), f"{path}.user")
    gids = R.list_(u, "additionalGids", f"{path}.user")
    for i, g in enumerate(gids):
        if isinstance(g, bool) or not isinstance(g, int):
            raise R.fail(f"{path}.user.additionalGids[{i}]", "expected an integer")
    user = User(R.int_(u, "uid", f"{path}.user", 0) or 0, R.int_(u, "gid", f"{path}.user", 0) or 0,
                R.int_(u, "umask", f"{path}.user"), tuple(gids))
    caps = None
    if p.get("capabilities") is not None:
        c = R.obj(p.get("capabilities"), f"{path}.capabilities")
        sets = {k: check_capabilities(R.strs(c, k, f"{path}.capabilities"), f"{path}.capabilities.{k}")
                for k in _CAP_SETS}
        caps = Capabilities(**sets)
    rlimits: list[Rlimit] = []
    seen: set[str] = set()
    for i, rl in enumerate(R.list_(p, "rlimits", path)):
        rp = f"{path}.rlimits[{i}]"
        r = R.obj(rl, rp)
        name = R.str_(r, "type", rp)
        if name not in RLIMITS:
            raise R.fail(f"{rp}.type", f"unknown rlimit {name!r}")
        if name in seen:
            raise R.fail(f"{rp}.type", f"duplicate rlimit {name}")
        seen.add(name)
        soft, hard = R.req_int(r, "soft", rp), R.req_int(r, "hard", rp)
        rlimits.append(Rlimit(name, RLIMITS[name], soft, hard))
    size = None
    if p.get("consoleSize") is not None:
        cs = R.obj(p.get("consoleSize"), f"{path}.consoleSize")
        size = (R.req_int(cs, "height", f"{path}.consoleSize"), R.req_int(cs, "width", f"{path}.consoleSize"))
    return Process(
        args=args, env=env, cwd=cwd, terminal=R.bool_(p, "terminal", path), console_size=size, user=user,
        capabilities=caps, rlimits=tuple(rlimits), no_new_privileges=R.bool_(p, "noNewPrivileges", path),
        oom_score_adj=R.int_(p, "oomScoreAdj", path),
    )


def parse_mounts(items: list[Any]) -> tuple[Mount, ...]:
    out: list[Mount] = []
    for i, item in enumerate(items):
        path = f"mounts[{i}]"
        m = R.obj(item, path)
        dest = R.str_(m, "destination", path)
        if not dest.startswith("/"):
            raise R.fail(f"{path}.destination", f"mount destination must be absolute, got {dest!r}")
        opts = R.strs(m, "options", path)
        parsed = parse_options(opts)
        mtype = R.str_(m, "type", path)
        if not mtype and not parsed.is_bind:
            mtype = "none"
        if mtype == "bind":
            parsed = parse_options((*opts, "bind"))
        source = R.str_(m, "source", path)
        if parsed.is_bind and not source.startswith("/"):
            raise R.fail(f"{path}.source", f"bind mount source must be absolute, got {source!r}")
        out.append(Mount(dest, mtype, source, opts, parsed))
    return tuple(out)


def _mappings(items: list[Any], path: str) -> tuple[IDMapping, ...]:
    out = []
    for i, item in enumerate(items):
        p = f"{path}[{i}]"
        m = R.obj(item, p)
        out.append(IDMapping(R.req_int(m, "containerID", p), R.req_int(m, "hostID", p), R.req_int(m, "size", p)))
    return tuple(out)


def parse_linux(d: Any, path: str) -> Linux:
    lx = R.obj(d, path)
    namespaces: list[Namespace] = []
    for i, item in enumerate(R.list_(lx, "namespaces", path)):
        p = f"{path}.namespaces[{i}]"
        n = R.obj(item, p)
        kind = R.str_(n, "type", p)
        if kind not in NAMESPACES:
            raise R.fail(f"{p}.type", f"unknown namespace type {kind!r}")
        if any(x.type == kind for x in namespaces):
            raise R.fail(f"{p}.type", f"duplicate namespace {kind!r}")
        nspath = R.str_(n, "path", p)
        if nspath and not nspath.startswith("/"):
            raise R.fail(f"{p}.path", f"namespace path must be absolute, got {nspath!r}")
        namespaces.append(Namespace(kind, nspath))
    uid_maps = _mappings(R.list_(lx, "uidMappings", path), f"{path}.uidMappings")
    gid_maps = _mappings(R.list_(lx, "gidMappings", path), f"{path}.gidMappings")
    userns = next((n for n in namespaces if n.type == "user"), None)
    if (uid_maps or gid_maps) and userns is None:
        raise R.fail(f"{path}.uidMappings", "user namespace mappings specified, but user namespace isn't enabled")
    if userns is not None and not userns.path and not (uid_maps and gid_maps):
        raise R.fail(f"{path}.uidMappings", "user namespace enabled, but no user mappings found")
    devices: list[Device] = []
    for i, item in enumerate(R.list_(lx, "devices", path)):
        p = f"{path}.devices[{i}]"
        dv = R.obj(item, p)
        dpath, dtype = R.str_(dv, "path", p), R.str_(dv, "type", p)
        if not dpath.startswith("/"):
            raise R.fail(f"{p}.path", f"device path must be absolute, got {dpath!r}")
        if dtype not in ("c", "b", "u", "p"):
            raise R.fail(f"{p}.type", f"unknown device type {dtype!r}")
        major = R.int_(dv, "major", p, 0) or 0
        minor = R.int_(dv, "minor", p, 0) or 0
        if dtype != "p" and ("major" not in dv or "minor" not in dv):
            raise R.fail(p, "major and minor are required for c, b and u devices")
        devices.append(Device(dpath, dtype, major, minor, R.int_(dv, "fileMode", p), R.int_(dv, "uid", p),
                              R.int_(dv, "gid", p)))
    prop = R.str_(lx, "rootfsPropagation", path)
    if prop and prop not in PROPAGATION:
        raise R.fail(f"{path}.rootfsPropagation", f"unknown propagation {prop!r}")
    sysctl = R.obj(lx.get("sysctl"), f"{path}.sysctl")
    for k, v in sysctl.items():
        if not isinstance(v, str):
            raise R.fail(f"{path}.sysctl.{k}", "expected a string")
    personality = None
    if lx.get("personality") is not None:
        pe = R.obj(lx.get("personality"), f"{path}.personality")
        domain = R.str_(pe, "domain", f"{path}.personality")
        if domain not in PERSONALITY:
            raise R.fail(f"{path}.personality.domain", f"unknown personality domain {domain!r}")
        personality = PERSONALITY[domain]
    seccomp = lx.get("seccomp")
    if seccomp is not None:
        seccomp = R.obj(seccomp, f"{path}.seccomp")
    cgroups_path = R.str_(lx, "cgroupsPath", path) or None
    return Linux(
        namespaces=tuple(namespaces), uid_mappings=uid_maps, gid_mappings=gid_maps, devices=tuple(devices),
        cgroups_path=cgroups_path, resources=R.obj(lx.get("resources"), f"{path}.resources"),
        rootfs_propagation=PROPAGATION.get(prop, 0), masked_paths=R.strs(lx, "maskedPaths", path),
        readonly_paths=R.strs(lx, "readonlyPaths", path), sysctl=dict(sysctl), seccomp=seccomp,
        personality=personality,
    )
