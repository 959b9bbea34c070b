"""config.json validation: good configs become typed values, bad ones name the JSON path."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest

from sampan.errdefs import InvalidArgument
from sampan.linux import syscalls as s
from sampan.runtime.config import load_bundle, parse
from sampan.runtime.spec import default_spec, rootless


@pytest.fixture
def bundle(tmp_path: Any) -> str:
    os.mkdir(tmp_path / "rootfs")
    return str(tmp_path)


def test_default_spec_parses(bundle: str) -> None:
    cfg = parse(default_spec(), bundle)
    assert cfg.root_path == os.path.join(bundle, "rootfs")
    assert cfg.readonly_root
    assert cfg.process is not None and cfg.process.args == ("sh",)
    assert cfg.process.rlimits[0].name == "RLIMIT_NOFILE" and cfg.process.rlimits[0].resource == 7
    assert cfg.process.capabilities is not None
    assert cfg.process.capabilities.bounding == ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
    assert [n.type for n in cfg.linux.namespaces] == ["pid", "network", "ipc", "uts", "mount"]
    assert cfg.linux.namespace("mount") is not None and cfg.linux.namespace("user") is None
    proc = next(m for m in cfg.mounts if m.destination == "/sys")
    assert proc.parsed.flags & s.MS_RDONLY and proc.parsed.flags & s.MS_NOSUID
    devpts = next(m for m in cfg.mounts if m.type == "devpts")
    assert devpts.parsed.data == "newinstance,ptmxmode=0666,mode=0620,gid=5"


def test_rootless_spec_parses(bundle: str) -> None:
    cfg = parse(rootless(default_spec()), bundle)
    assert cfg.linux.namespace("user") is not None and cfg.linux.namespace("network") is None
    assert cfg.linux.uid_mappings[0].size == 1
    sys_mount = next(m for m in cfg.mounts if m.destination == "/sys")
    assert sys_mount.parsed.is_bind and sys_mount.parsed.flags & s.MS_REC


def test_load_bundle_bad_json(bundle: str) -> None:
    with open(os.path.join(bundle, "config.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(InvalidArgument, match=r"invalid config\.json"):
        load_bundle(bundle)


def test_load_bundle_missing(tmp_path: Any) -> None:
    with pytest.raises(InvalidArgument, match=r"config\.json not found"):
        load_bundle(str(tmp_path))


def test_missing_rootfs(tmp_path: Any) -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        parse(default_spec(), str(tmp_path))


def _bad(edit: Any) -> dict[str, Any]:
    spec = copy.deepcopy(default_spec())
    edit(spec)
    return spec


BAD_CASES = [
    ("process.args", lambda d: d["process"].__setitem__("args", [])),
    ("process.args[0]", lambda d: d["process"].__setitem__("args", [1])),
    ("process.cwd", lambda d: d["process"].__setitem__("cwd", "relative")),
    ("process.terminal", lambda d: d["process"].__setitem__("terminal", "yes")),
    ("process.user.uid", lambda d: d["process"]["user"].__setitem__("uid", "0")),
    ("process.capabilities.bounding[0]", lambda d: d["process"]["capabilities"]["bounding"].__setitem__(0, "CAP_FLY")),
    ("process.rlimits[0].type", lambda d: d["process"]["rlimits"][0].__setitem__("type", "RLIMIT_BOGUS")),
    ("process.rlimits[0].soft", lambda d: d["process"]["rlimits"][0].pop("soft")),
    ("process.env[0]", lambda d: d["process"].__setitem__("env", ["NOEQUALS"])),
    ("linux.namespaces[0].type", lambda d: d["linux"]["namespaces"].__setitem__(0, {"type": "bogus"})),
    ("linux.namespaces[5].type", lambda d: d["linux"]["namespaces"].append({"type": "pid"})),
    ("linux.namespaces[0].path", lambda d: d["linux"]["namespaces"].__setitem__(0, {"type": "pid", "path": "x"})),
    ("linux.uidMappings",
     lambda d: d["linux"].__setitem__("uidMappings", [{"containerID": 0, "hostID": 1, "size": 1}])),
    ("linux.devices[0].type", lambda d: d["linux"].__setitem__("devices", [{"path": "/dev/x", "type": "q"}])),
    ("linux.rootfsPropagation", lambda d: d["linux"].__setitem__("rootfsPropagation", "sideways")),
    ("mounts[0].destination", lambda d: d["mounts"][0].__setitem__("destination", "proc")),
    ("mounts[0].options", lambda d: d["mounts"][0].__setitem__("options", "ro")),
    ("hooks.prestart[0].path", lambda d: d.__setitem__("hooks", {"prestart": [{"path": "rel"}]})),
    ("hooks.bogus", lambda d: d.__setitem__("hooks", {"bogus": []})),
    ("hooks.poststop[0].timeout", lambda d: d.__setitem__("hooks", {"poststop": [{"path": "/x", "timeout": 0}]})),
    ("ociVersion", lambda d: d.pop("ociVersion")),
    ("root.path", lambda d: d.__setitem__("root", {})),
    ("linux.personality.domain", lambda d: d["linux"].__setitem__("personality", {"domain": "MARS"})),
]


@pytest.mark.parametrize(("path", "edit"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_configs_name_the_path(bundle: str, path: str, edit: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse(_bad(edit), bundle)
    assert path in str(info.value)


def test_hostname_needs_uts_namespace(bundle: str) -> None:
    spec = default_spec()
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "uts"]
    with pytest.raises(InvalidArgument, match="UTS namespace"):
        parse(spec, bundle)


def test_user_namespace_and_devices(bundle: str) -> None:
    spec = default_spec()
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    spec["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}]
    spec["linux"]["rootfsPropagation"] = "rshared"
    spec["hooks"] = {"prestart": [{"path": "/bin/true", "args": ["true"], "timeout": 5}]}
    cfg = parse(json.loads(json.dumps(spec)), bundle)
    assert cfg.linux.uid_mappings[0].host_id == 100000
    assert cfg.linux.devices[0].major == 10 and cfg.linux.devices[0].file_mode == 0o666
    assert cfg.linux.rootfs_propagation == s.MS_SHARED | s.MS_REC
    assert cfg.hooks_of("prestart")[0].timeout == 5 and cfg.hooks_of("poststop") == ()
