"""OCI config.json -> validated, typed configuration (runc's spec -> libcontainer config step).

The types are Records (record.py): immutable and typed like frozen dataclasses, but cheap to
define, which matters because every `create` imports this module.

Everything is checked here, before the runtime creates anything, so a bad config never leaves
a state dir, cgroup or mount behind. Errors are InvalidArgument naming the JSON path.
Resources and seccomp stay raw dicts: their own modules (cgroups, seccomp) own their schema.
"""

from __future__ import annotations

import os

from sampan.errdefs import InvalidArgument
from sampan.linux import syscalls as s
from sampan.linux.caps import CAPABILITIES
from sampan.runtime import jsonc
from sampan.runtime.mountopts import MountOptions
from sampan.runtime.record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

NAMESPACES: dict[str, int] = {
    "pid": s.CLONE_NEWPID, "network": s.CLONE_NEWNET, "mount": s.CLONE_NEWNS, "ipc": s.CLONE_NEWIPC,
    "uts": s.CLONE_NEWUTS, "user": s.CLONE_NEWUSER, "cgroup": s.CLONE_NEWCGROUP, "time": s.CLONE_NEWTIME,
}
NS_PROC_NAME = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
                "user": "user", "cgroup": "cgroup", "time": "time"}

RLIMITS: dict[str, int] = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
PERSONALITY = {"LINUX": 0x0000, "LINUX32": 0x0008}
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")


class User(Record):
    uid: int = 0
    gid: int = 0
    umask: int | None = None
    additional_gids: tuple[int, ...] = ()


class Capabilities(Record):
    bounding: tuple[str, ...] = ()
    effective: tuple[str, ...] = ()
    inheritable: tuple[str, ...] = ()
    permitted: tuple[str, ...] = ()
    ambient: tuple[str, ...] = ()


class Rlimit(Record):
    name: str
    resource: int
    soft: int
    hard: int


class Process(Record):
    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    terminal: bool = False
    console_size: tuple[int, int] | None = None  # (height, width)
    user: User = User()
    capabilities: Capabilities | None = None
    rlimits: tuple[Rlimit, ...] = ()
    no_new_privileges: bool = False
    oom_score_adj: int | None = None


class Mount(Record):
    destination: str
    type: str
    source: str
    options: tuple[str, ...]
    parsed: MountOptions


class Hook(Record):
    path: str
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    timeout: int | None = None


class Namespace(Record):
    type: str
    path: str = ""

    @property
    def flag(self) -> int:
        return NAMESPACES[self.type]


class IDMapping(Record):
    container_id: int
    host_id: int
    size: int


class Device(Record):
    path: str
    type: str
    major: int
    minor: int
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None


class Linux(Record):
    namespaces: tuple[Namespace, ...] = ()
    uid_mappings: tuple[IDMapping, ...] = ()
    gid_mappings: tuple[IDMapping, ...] = ()
    devices: tuple[Device, ...] = ()
    cgroups_path: str | None = None
    resources: dict[str, Any] = {}
    rootfs_propagation: int = 0
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()
    sysctl: dict[str, str] = {}
    seccomp: dict[str, Any] | None = None
    personality: int | None = None

    def namespace(self, kind: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.type == kind:
                return ns
        return None


class Config(Record):
    oci_version: str
    root_path: str  # absolute host path of the rootfs
    readonly_root: bool
    process: Process | None
    hostname: str
    domainname: str
    mounts: tuple[Mount, ...]
    hooks: dict[str, tuple[Hook, ...]]
    linux: Linux
    annotations: dict[str, str]
    raw: dict[str, Any]

    def hooks_of(self, kind: str) -> tuple[Hook, ...]:
        return self.hooks.get(kind, ())


class _Reader:
    """Typed accessors that raise InvalidArgument naming the JSON path."""

    @staticmethod
    def fail(path: str, problem: str) -> InvalidArgument:
        return InvalidArgument(f"invalid config.json: {path}: {problem}")

    def obj(self, d: Any, path: str) -> dict[str, Any]:
        if d is None:
            return {}
        if not isinstance(d, dict):
            raise self.fail(path, f"expected an object, got {type(d).__name__}")
        return d

    def str_(self, d: dict[str, Any], key: str, path: str, default: str = "") -> str:
        v = d.get(key, default)
        if v is None:
            return default
        if not isinstance(v, str):
            raise self.fail(f"{path}.{key}", f"expected a string, got {type(v).__name__}")
        return v

    def int_(self, d: dict[str, Any], key: str, path: str, default: int | None = None) -> int | None:
        v = d.get(key, default)
        if v is None:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"{path}.{key}", f"expected an integer, got {type(v).__name__}")
        return v

    def req_int(self, d: dict[str, Any], key: str, path: str) -> int:
        v = self.int_(d, key, path)
        if v is None:
            raise self.fail(f"{path}.{key}", "required")
        return v

    def bool_(self, d: dict[str, Any], key: str, path: str) -> bool:
        v = d.get(key, False)
        if v is None:
            return False
        if not isinstance(v, bool):
            raise self.fail(f"{path}.{key}", f"expected a boolean, got {type(v).__name__}")
        return v

    def list_(self, d: dict[str, Any], key: str, path: str) -> list[Any]:
        v = d.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(f"{path}.{key}", f"expected an array, got {type(v).__name__}")
        return v

    def strs(self, d: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        out = self.list_(d, key, path)
        for i, v in enumerate(out):
            if not isinstance(v, str):
                raise self.fail(f"{path}.{key}[{i}]", f"expected a string, got {type(v).__name__}")
        return tuple(out)


R = _Reader()


def load_bundle(bundle: str) -> Config:
    """Read and validate <bundle>/config.json."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise InvalidArgument(f"JSON specification file {path} not found")
    except OSError as e:
        raise InvalidArgument(f"open {path}: {e.strerror}")
    try:
        doc = jsonc.loads(raw)
    except ValueError as e:
        raise InvalidArgument(f"invalid config.json: {e}")
    return parse(doc, bundle)


def parse(doc: Any, bundle: str, *, check_rootfs: bool = True) -> Config:
    from sampan.runtime.config_linux import parse_linux, parse_mounts, parse_process

    top = R.obj(doc, "$")
    oci_version = R.str_(top, "ociVersion", "$")
    if not oci_version:
        raise R.fail("ociVersion", "required")
    root = R.obj(top.get("root"), "root")
    root_rel = R.str_(root, "path", "root")
    if not root_rel:
        raise R.fail("root.path", "required")
    root_path = os.path.normpath(os.path.join(os.path.abspath(bundle), root_rel))
    if check_rootfs and not os.path.isdir(root_path):
        raise InvalidArgument(f"rootfs ({root_path}) does not exist")
    process = parse_process(top.get("process"), "process") if top.get("process") is not None else None
    hooks: dict[str, tuple[Hook, ...]] = {}
    hooks_doc = R.obj(top.get("hooks"), "hooks")
    for kind in hooks_doc:
        if kind not in HOOK_KINDS:
            raise R.fail(f"hooks.{kind}", "unknown hook kind")
        hooks[kind] = tuple(_hook(h, f"hooks.{kind}[{i}]") for i, h in enumerate(R.list_(hooks_doc, kind, "hooks")))
    annotations = R.obj(top.get("annotations"), "annotations")
    for k, v in annotations.items():
        if not isinstance(v, str):
            raise R.fail(f"annotations.{k}", "expected a string")
    linux = parse_linux(top.get("linux"), "linux")
    hostname = R.str_(top, "hostname", "$")
    if hostname and linux.namespace("uts") is None:
        raise InvalidArgument("unable to set hostname without a private UTS namespace")
    return Config(
        oci_version=oci_version,
        root_path=root_path,
        readonly_root=R.bool_(root, "readonly", "root"),
        process=process,
        hostname=hostname,
        domainname=R.str_(top, "domainname", "$"),
        mounts=parse_mounts(R.list_(top, "mounts", "$")),
        hooks=hooks,
        linux=linux,
        annotations=annotations,
        raw=top,
    )


def _hook(d: Any, path: str) -> Hook:
    h = R.obj(d, path)
    hpath = R.str_(h, "path", path)
    if not hpath.startswith("/"):
        raise R.fail(f"{path}.path", f"hook path must be absolute, got {hpath!r}")
    timeout = R.int_(h, "timeout", path)
    if timeout is not None and timeout <= 0:
        raise R.fail(f"{path}.timeout", "must be greater than zero")
    return Hook(hpath, R.strs(h, "args", path), R.strs(h, "env", path), timeout)


def check_capabilities(names: tuple[str, ...], path: str) -> tuple[str, ...]:
    for i, name in enumerate(names):
        if name.upper() not in CAPABILITIES:
            raise R.fail(f"{path}[{i}]", f"unknown capability {name!r}")
    return names
