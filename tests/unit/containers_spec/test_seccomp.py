from __future__ import annotations

import json
import os
import sys

import pytest

from sampan.daemon.containers import seccomp_profile
from sampan.daemon.containers.defaults import DEFAULT_CAPABILITIES
from sampan.daemon.containers.spec import generate_spec
from sampan.daemon.containers.spec_seccomp import default_profile, resolve, seccomp_for
from sampan.errdefs import InvalidArgument
from sampan.runtime.seccomp.profile import validate

HERE = os.path.dirname(__file__)
REFERENCE = "/work/shared/specs/docker-defaults/seccomp-default.json"
CAPS = list(DEFAULT_CAPABILITIES)


def _allowed(oci: dict) -> set[str]:
    return {n for call in oci["syscalls"] if call["action"] == "SCMP_ACT_ALLOW" and not call.get("args")
            for n in call["names"]}


def _x86(caps: list[str], kernel: str = "6.1.0") -> dict:
    return resolve(default_profile(), caps, machine="x86_64", kernel=kernel)


def test_data_module_is_what_the_generator_writes() -> None:
    if not os.path.exists(REFERENCE):
        pytest.fail(f"the reference profile {REFERENCE} is missing (it ships with the project's shared specs)")
    sys.path.insert(0, HERE)
    try:
        import gen_seccomp_profile
    finally:
        sys.path.remove(HERE)
    with open(REFERENCE) as f:
        doc = json.load(f)
    with open(seccomp_profile.__file__) as f:
        assert f.read() == gen_seccomp_profile.render(doc)
    assert default_profile()["syscalls"][0]["names"] == doc["syscalls"][0]["names"]
    assert len(default_profile()["syscalls"]) == len(doc["syscalls"])


def test_default_profile_for_default_caps() -> None:
    oci = _x86(CAPS)
    validate(oci)
    assert oci["defaultAction"] == "SCMP_ACT_ERRNO" and oci["defaultErrnoRet"] == 1
    assert oci["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    allowed = _allowed(oci)
    assert {"read", "write", "execve", "arch_prctl", "ptrace", "chroot"} <= allowed
    assert not {"mount", "umount2", "unshare", "setns", "reboot", "init_module", "bpf", "sethostname"} & allowed
    clone = [c for c in oci["syscalls"] if c["names"] == ["clone"]]
    assert clone == [{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}]
    clone3 = [c for c in oci["syscalls"] if c["names"] == ["clone3"]]
    assert clone3 == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    assert not any("s390" in str(c) for c in oci["syscalls"] if c["names"] == ["s390_pci_mmio_read"])


def test_sys_admin_adds_mount_and_frees_clone() -> None:
    oci = _x86([*CAPS, "CAP_SYS_ADMIN"])
    allowed = _allowed(oci)
    assert {"mount", "umount2", "unshare", "setns", "sethostname", "clone", "clone3"} <= allowed
    assert not [c for c in oci["syscalls"] if c["action"] == "SCMP_ACT_ERRNO"]


@pytest.mark.parametrize(("cap", "syscalls"), [
    ("CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}),
    ("CAP_SYS_BOOT", {"reboot"}),
    ("CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime"}),
    ("CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy"}),
    ("CAP_BPF", {"bpf"}),
])
def test_capability_conditions(cap: str, syscalls: set[str]) -> None:
    assert not syscalls & _allowed(_x86(CAPS))
    assert syscalls <= _allowed(_x86([*CAPS, cap]))


def test_dropped_chroot_cap_drops_chroot() -> None:
    assert "chroot" not in _allowed(_x86([c for c in CAPS if c != "CAP_SYS_CHROOT"]))


def test_arch_and_kernel_conditions() -> None:
    arm = resolve(default_profile(), CAPS, machine="aarch64", kernel="6.1")
    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "arm_fadvise64_64" in _allowed(arm) and "arch_prctl" not in _allowed(arm)
    old = _x86(CAPS, kernel="4.4.0-100-generic")
    assert "ptrace" not in _allowed(old)


def test_custom_profile_and_unconfined() -> None:
    assert seccomp_for("unconfined", False, CAPS) is None
    assert seccomp_for("", True, CAPS) is None
    custom = json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                         "syscalls": [{"name": "mkdir", "action": "SCMP_ACT_ERRNO"},
                                      {"names": ["mount"], "action": "SCMP_ACT_ERRNO",
                                       "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})
    oci = seccomp_for(custom, False, CAPS)
    assert oci == {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                   "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    assert seccomp_for(custom, True, CAPS) is not None  # an explicit profile applies even when privileged


def test_bad_custom_profiles() -> None:
    with pytest.raises(InvalidArgument, match="Decoding seccomp profile failed"):
        seccomp_for("{not json", False, CAPS)
    with pytest.raises(InvalidArgument, match="both 'architectures' and 'archMap'"):
        seccomp_for(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}), False, CAPS)
    with pytest.raises(InvalidArgument, match="'name' and 'names'"):
        seccomp_for(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}),
                    False, CAPS)


def test_spec_seccomp(make_inputs) -> None:
    linux = generate_spec(make_inputs(host_config={"CapAdd": ["SYS_ADMIN"]}))["linux"]
    assert "mount" in _allowed(linux["seccomp"])
    assert "seccomp" not in generate_spec(make_inputs(host_config={"SecurityOpt": ["seccomp=unconfined"]}))["linux"]
    with pytest.raises(InvalidArgument, match="invalid seccomp profile"):
        generate_spec(make_inputs(host_config={"SecurityOpt": ['seccomp={"defaultAction": "SCMP_ACT_NOPE"}']}))
