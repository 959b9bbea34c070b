from __future__ import annotations

import pytest

from sampan.daemon.containers.defaults import DEFAULT_CAPABILITIES
from sampan.daemon.containers.spec import generate_spec
from sampan.daemon.containers.spec_security import (
    all_capabilities,
    normalize_capabilities,
    parse_security_opts,
    tweak_capabilities,
)
from sampan.errdefs import InvalidArgument


def test_default_caps() -> None:
    assert tweak_capabilities([], [], False) == list(DEFAULT_CAPABILITIES)
    assert len(DEFAULT_CAPABILITIES) == 14


@pytest.mark.parametrize(("adds", "drops", "want"), [
    (["sys_admin"], [], [*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]),
    (["CAP_NET_ADMIN", "Sys_Time"], ["net_raw", "CAP_MKNOD"],
     [c for c in DEFAULT_CAPABILITIES if c not in ("CAP_NET_RAW", "CAP_MKNOD")] + ["CAP_NET_ADMIN", "CAP_SYS_TIME"]),
    ([], ["ALL"], []),
    (["chown", "kill"], ["all"], ["CAP_CHOWN", "CAP_KILL"]),
    (["chown"], [], list(DEFAULT_CAPABILITIES)),
])
def test_tweak(adds: list[str], drops: list[str], want: list[str]) -> None:
    assert tweak_capabilities(adds, drops, False) == want


def test_add_all_minus_drops_and_privileged() -> None:
    everything = all_capabilities()
    assert "CAP_SYS_ADMIN" in everything and "CAP_CHOWN" in everything
    assert tweak_capabilities(["ALL"], ["sys_admin"], False) == [c for c in everything if c != "CAP_SYS_ADMIN"]
    assert tweak_capabilities([], ["ALL"], True) == everything


def test_unknown_capability() -> None:
    with pytest.raises(InvalidArgument, match=r'^unknown capability: "CAP_FLY"$'):
        normalize_capabilities(["fly"])


def test_caps_in_spec_root_and_non_root(make_inputs) -> None:
    caps = generate_spec(make_inputs())["process"]["capabilities"]
    assert caps == {k: list(DEFAULT_CAPABILITIES) for k in ("bounding", "effective", "permitted")}
    caps = generate_spec(make_inputs({"User": "u1"}, {"CapAdd": ["NET_ADMIN"]}))["process"]["capabilities"]
    assert caps == {"bounding": [*DEFAULT_CAPABILITIES, "CAP_NET_ADMIN"]}


@pytest.mark.parametrize(("opts", "nnp", "seccomp"), [
    ([], False, ""),
    (["no-new-privileges"], True, ""),
    (["no-new-privileges=true"], True, ""),
    (["no-new-privileges:false"], False, ""),
    (["seccomp=unconfined"], False, "unconfined"),
    (["seccomp:unconfined", "apparmor=unconfined", "label=disable"], False, "unconfined"),
    (['seccomp={"defaultAction": "SCMP_ACT_ALLOW"}'], False, '{"defaultAction": "SCMP_ACT_ALLOW"}'),
])
def test_security_opts(opts: list[str], nnp: bool, seccomp: str) -> None:
    parsed = parse_security_opts(opts)
    assert (parsed.no_new_privileges, parsed.seccomp) == (nnp, seccomp)


@pytest.mark.parametrize(("opt", "message"), [
    ("bogus", 'invalid --security-opt 1: "bogus"'),
    ("foo=bar", 'invalid --security-opt 2: "foo=bar"'),
    ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"'),
])
def test_bad_security_opts(opt: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_security_opts([opt])
    assert str(err.value) == message


def test_no_new_privileges_in_spec(make_inputs) -> None:
    assert "noNewPrivileges" not in generate_spec(make_inputs())["process"]
    assert generate_spec(make_inputs(host_config={"SecurityOpt": ["no-new-privileges"]}))["process"][
        "noNewPrivileges"] is True


def test_privileged(make_inputs) -> None:
    spec = generate_spec(make_inputs(host_config={"Privileged": True}))
    linux = spec["linux"]
    assert spec["process"]["capabilities"]["bounding"] == all_capabilities()
    assert "seccomp" not in linux and "maskedPaths" not in linux and "readonlyPaths" not in linux
    assert linux["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert any(d["path"] == "/dev/null" for d in linux["devices"])
    sysfs = {m["destination"]: m["options"] for m in spec["mounts"]}
    assert "ro" not in sysfs["/sys"] and "ro" not in sysfs["/sys/fs/cgroup"]


def test_masked_paths_override(make_inputs) -> None:
    linux = generate_spec(make_inputs(host_config={"MaskedPaths": [], "ReadonlyPaths": ["/proc/sys"]}))["linux"]
    assert "maskedPaths" not in linux
    assert linux["readonlyPaths"] == ["/proc/sys"]
    linux = generate_spec(make_inputs())["linux"]
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sysrq-trigger" in linux["readonlyPaths"]
