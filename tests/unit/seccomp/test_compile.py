from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest

from sampan import errdefs
from sampan.runtime.seccomp import compile_filter, flags_value, validate
from sampan.runtime.seccomp import syscalls as tables
from sampan.runtime.seccomp.bpf import JMP_JEQ_K, Program

from .bpfvm import AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, run, seccomp_data

ALLOW, KILL_PROCESS, KILL_THREAD, TRAP, LOG = 0x7FFF0000, 0x80000000, 0, 0x00030000, 0x7FFC0000
X32 = 0x40000000
DOCKER_PROFILE = "/work/shared/specs/docker-defaults/seccomp-default.json"
NR = tables.X86_64


def errno_ret(n: int) -> int:
    return 0x00050000 | n


def decide(prog: bytes, name: str, *args: int, arch: int = AUDIT_ARCH_X86_64, table: dict[str, int] = NR) -> int:
    return run(prog, seccomp_data(table[name], arch, args))


def test_allow_list_and_default_errno() -> None:
    prog = compile_filter({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                           "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]},
                          arch="x86_64")
    assert decide(prog, "read") == ALLOW
    assert decide(prog, "write") == ALLOW
    assert decide(prog, "mkdir") == errno_ret(38)
    assert run(prog, seccomp_data(0xFFFF)) == errno_ret(38)
    prog = compile_filter({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                           "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}, arch="x86_64")
    assert decide(prog, "mkdir") == errno_ret(1)  # defaultErrnoRet is not the rules' errno


def test_actions() -> None:
    rules = [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1234},
        {"names": ["rmdir"], "action": "SCMP_ACT_KILL"},
        {"names": ["unlink"], "action": "SCMP_ACT_KILL_PROCESS"},
        {"names": ["chdir"], "action": "SCMP_ACT_TRAP"},
        {"names": ["chmod"], "action": "SCMP_ACT_LOG"},
        {"names": ["chown"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
        {"names": ["no_such_syscall"], "action": "SCMP_ACT_KILL"},
    ]
    prog = compile_filter({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}, arch="x86_64")
    assert decide(prog, "mkdir") == errno_ret(1)
    assert decide(prog, "getpid") == errno_ret(1234)
    assert decide(prog, "rmdir") == KILL_THREAD
    assert decide(prog, "unlink") == KILL_PROCESS
    assert decide(prog, "chdir") == TRAP
    assert decide(prog, "chmod") == LOG
    assert decide(prog, "chown") == 0x7FF00000 | 7
    assert decide(prog, "read") == ALLOW


OPS: list[tuple[str, Any]] = [
    ("SCMP_CMP_EQ", lambda a, v: a == v),
    ("SCMP_CMP_NE", lambda a, v: a != v),
    ("SCMP_CMP_LT", lambda a, v: a < v),
    ("SCMP_CMP_LE", lambda a, v: a <= v),
    ("SCMP_CMP_GT", lambda a, v: a > v),
    ("SCMP_CMP_GE", lambda a, v: a >= v),
]
EDGES = [0, 1, 2, 0xFFFFFFFF, 0x100000000, 0x100000001, 0x1FFFFFFFF, 0xFFFFFFFF00000000, 2**64 - 1, 2**63]


@pytest.mark.parametrize(("op", "pred"), OPS)
def test_64bit_comparisons(op: str, pred: Any) -> None:
    rng = random.Random(op)
    samples = EDGES + [rng.getrandbits(64) for _ in range(20)] + [rng.getrandbits(33) for _ in range(10)]
    for value in (0, 1, 0xFFFFFFFF, 0x100000000, 0x1234567800000001, 2**64 - 1):
        prog = compile_filter({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": value, "op": op}]}]},
            arch="x86_64")
        for arg in [*samples, value, value - 1 if value else 0, (value + 1) % 2**64]:
            want = ALLOW if pred(arg, value) else errno_ret(1)
            assert decide(prog, "ioctl", 0, arg) == want, (op, hex(value), hex(arg))


def test_masked_eq_and_and_or_rules() -> None:
    prog = compile_filter({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        # ANDed: arg0 & 0xff00000000 == 0x100000000 and arg2 == 5
        {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 0, "value": 0xFF00000000, "valueTwo": 0x100000000, "op": "SCMP_CMP_MASKED_EQ"},
            {"index": 2, "value": 5, "op": "SCMP_CMP_EQ"}]},
        # ORed with a second rule for the same syscall
        {"names": ["mmap"], "action": "SCMP_ACT_LOG", "args": [{"index": 5, "value": 9, "op": "SCMP_CMP_EQ"}]},
    ]}, arch="x86_64")
    assert decide(prog, "mmap", 0x100001234, 0, 5) == ALLOW
    assert decide(prog, "mmap", 0x12340100000123, 0, 5) == ALLOW
    assert decide(prog, "mmap", 0x200000000, 0, 5) == errno_ret(1)
    assert decide(prog, "mmap", 0x100000000, 0, 6) == errno_ret(1)
    assert decide(prog, "mmap", 0, 0, 0, 0, 0, 9) == LOG
    assert decide(prog, "mmap", 0x100000000, 0, 5, 0, 0, 9) == ALLOW


def test_conditional_rules_before_unconditional() -> None:
    prog = compile_filter({"defaultAction": "SCMP_ACT_KILL", "syscalls": [
        {"names": ["kill"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
    ]}, arch="x86_64")
    assert decide(prog, "kill", 1, 9) == errno_ret(1)
    assert decide(prog, "kill", 1, 15) == ALLOW


def test_architectures_and_x32() -> None:
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
               "syscalls": [{"names": ["mkdir", "getpid"], "action": "SCMP_ACT_ALLOW"}]}
    prog = compile_filter(profile, arch="x86_64")
    assert decide(prog, "getpid") == ALLOW
    assert decide(prog, "getpid", arch=AUDIT_ARCH_I386, table=tables.I386) == ALLOW
    assert decide(prog, "mkdir", arch=AUDIT_ARCH_I386, table=tables.I386) == ALLOW
    assert decide(prog, "read", arch=AUDIT_ARCH_I386, table=tables.I386) == errno_ret(1)
    # x32 not listed: its numbers are killed, never matched against x86_64 rules
    assert decide(prog, "getpid", table=tables.X32) == KILL_PROCESS
    assert decide(prog, "getpid", arch=AUDIT_ARCH_AARCH64, table=tables.AARCH64) == KILL_PROCESS
    profile["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"]
    prog = compile_filter(profile, arch="x86_64")
    assert decide(prog, "getpid", table=tables.X32) == ALLOW
    assert decide(prog, "read", table=tables.X32) == errno_ret(1)
    assert decide(prog, "getpid", arch=AUDIT_ARCH_I386, table=tables.I386) == KILL_PROCESS
    # deny-list profile: x32 must not bypass it
    deny = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    prog = compile_filter(deny, arch="x86_64")
    assert decide(prog, "mkdir") == errno_ret(1)
    assert decide(prog, "mkdir", table=tables.X32) == KILL_PROCESS
    prog = compile_filter(deny, arch="aarch64")
    assert decide(prog, "mkdirat", arch=AUDIT_ARCH_AARCH64, table=tables.AARCH64) == ALLOW
    assert decide(prog, "mkdir", arch=AUDIT_ARCH_AARCH64) == ALLOW  # 83 is fdatasync there
    assert decide(prog, "getpid") == KILL_PROCESS  # x86_64 audit arch on an arm64 filter


def test_long_jumps_many_rules() -> None:
    names = sorted(NR)[:300]
    rules = [{"names": [n], "action": "SCMP_ACT_ERRNO", "errnoRet": i + 1,
              "args": [{"index": 0, "value": i, "op": "SCMP_CMP_NE"}]} for i, n in enumerate(names)]
    rules.append({"names": names, "action": "SCMP_ACT_ALLOW"})
    prog = compile_filter({"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": rules}, arch="x86_64")
    for i, n in enumerate(names):
        assert decide(prog, n, i + 1) == errno_ret(i + 1)
        assert decide(prog, n, i) == ALLOW
    others = sorted(set(NR) - set(names))
    assert all(decide(prog, n) == KILL_PROCESS for n in others)


def test_assembler_trampolines() -> None:
    p = Program()
    far = p.label("far")
    p.load(0)
    p.jump(JMP_JEQ_K, 1, far, None)
    for i in range(600):
        p.jump(JMP_JEQ_K, 1000 + i, far, None)
    p.ret(5)
    p.place(far)
    p.ret(6)
    prog = p.assemble()
    assert run(prog, seccomp_data(1)) == 6
    assert run(prog, seccomp_data(1599)) == 6
    assert run(prog, seccomp_data(3)) == 5


def _docker() -> dict[str, Any]:
    with open(DOCKER_PROFILE) as f:
        return dict(json.load(f))


def test_docker_default_profile_decisions() -> None:
    prog = compile_filter(_docker(), arch="x86_64")
    assert len(prog) // 8 < 4096
    assert decide(prog, "read") == ALLOW
    assert decide(prog, "execve") == ALLOW
    assert decide(prog, "personality", 0) == ALLOW
    assert decide(prog, "personality", 0xFFFFFFFF) == ALLOW
    assert decide(prog, "personality", 0x1234) == errno_ret(1)
    assert decide(prog, "clone", 0x01200011) == ALLOW  # fork-like flags
    assert decide(prog, "clone", 0x10000000 | 0x11) == errno_ret(1)  # CLONE_NEWUSER
    assert decide(prog, "clone", 0x20000) == errno_ret(1)  # CLONE_NEWNS
    assert decide(prog, "clone3") == errno_ret(38)  # ENOSYS so libc falls back to clone
    assert decide(prog, "reboot") == errno_ret(1)
    assert decide(prog, "mount") == errno_ret(1)
    assert decide(prog, "unshare") == errno_ret(1)
    assert decide(prog, "socket", 2) == ALLOW
    assert decide(prog, "socket", 40) == errno_ret(1)  # AF_VSOCK
    assert decide(prog, "socket", 41) == ALLOW
    assert decide(prog, "arch_prctl") == ALLOW
    assert decide(prog, "ptrace") == ALLOW  # minKernel 4.8
    assert decide(prog, "read", arch=AUDIT_ARCH_I386, table=tables.I386) == ALLOW
    assert decide(prog, "read", table=tables.X32) == ALLOW
    assert decide(prog, "reboot", table=tables.X32) == errno_ret(1)
    assert decide(prog, "reboot", arch=AUDIT_ARCH_I386, table=tables.I386) == errno_ret(1)


def test_docker_profile_with_caps() -> None:
    caps = ["CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_CHOWN"]
    prog = compile_filter(_docker(), arch="x86_64", capabilities=caps)
    assert decide(prog, "clone", 0x10000000) == ALLOW
    assert decide(prog, "mount") == ALLOW
    assert decide(prog, "reboot") == ALLOW
    assert decide(prog, "clone3") == ALLOW


def test_docker_profile_on_arm64() -> None:
    prog = compile_filter(_docker(), arch="aarch64")
    ta = tables.AARCH64
    assert decide(prog, "read", arch=AUDIT_ARCH_AARCH64, table=ta) == ALLOW
    assert decide(prog, "personality", 0x1234, arch=AUDIT_ARCH_AARCH64, table=ta) == errno_ret(1)
    assert decide(prog, "read") == KILL_PROCESS  # an x86_64 syscall on an arm64 filter


def test_validate_messages() -> None:
    validate(_docker())
    good = {"defaultAction": "SCMP_ACT_ALLOW"}
    validate(good)
    bad: list[tuple[Any, str]] = [
        ({"defaultAction": "SCMP_ACT_MAYBE"}, "'SCMP_ACT_MAYBE' is not a valid seccomp action"),
        ({**good, "architectures": ["SCMP_ARCH_Z80"]}, "not a valid seccomp architecture"),
        ({**good, "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}, "not a supported seccomp filter flag"),
        ({**good, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                               "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]},
         "not a valid seccomp operator"),
        ({**good, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                               "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}, "index"),
        ({**good, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                               "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}, "value"),
        ({**good, "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}, "names"),
        ({**good, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}, "errnoRet"),
        ({**good, "defaultErrnoRet": 70000}, "defaultErrnoRet"),
        ([], "want an object"),
    ]
    for profile, message in bad:
        with pytest.raises(errdefs.InvalidArgument) as info:
            validate(profile)
        assert message in str(info.value)
    with pytest.raises(errdefs.NotImplementedFeature, match="SCMP_ACT_NOTIFY"):
        validate({"defaultAction": "SCMP_ACT_NOTIFY"})
    with pytest.raises(errdefs.NotImplementedFeature):
        compile_filter({**good, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]})


def test_flags_value() -> None:
    assert flags_value([]) == 0
    assert flags_value(["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                        "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]) == 7
    with pytest.raises(errdefs.InvalidArgument):
        flags_value(["SECCOMP_FILTER_FLAG_X"])


def test_tables_match_kernel_numbers() -> None:
    assert (NR["read"], NR["openat"], NR["clone3"], NR["personality"]) == (0, 257, 435, 135)
    assert (tables.I386["read"], tables.I386["socketcall"]) == (3, 102)
    assert tables.X32["read"] == X32 and tables.X32["execve"] == X32 + 520
    assert (tables.AARCH64["read"], tables.AARCH64["openat"], tables.AARCH64["clone"]) == (63, 56, 220)
    assert "open" not in tables.AARCH64
    if os.uname().machine == "x86_64":
        assert os.getpid() > 0


def test_native_arch_default() -> None:
    prog = compile_filter({"defaultAction": "SCMP_ACT_ALLOW"})
    native = AUDIT_ARCH_X86_64 if os.uname().machine == "x86_64" else AUDIT_ARCH_AARCH64
    assert run(prog, seccomp_data(0, native)) == ALLOW


def test_enosys_above_the_highest_named_syscall() -> None:
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
               "syscalls": [{"names": ["read", "mkdirat"], "action": "SCMP_ACT_ALLOW"}]}
    prog = compile_filter(profile, arch="x86_64")
    assert decide(prog, "mkdirat") == ALLOW
    assert decide(prog, "write") == errno_ret(1)
    assert decide(prog, "clone3") == errno_ret(38)  # 435 > mkdirat (258): newer than the profile
    assert decide(prog, "clone3", arch=AUDIT_ARCH_I386, table=tables.I386) == errno_ret(38)
    assert decide(prog, "fork", arch=AUDIT_ARCH_I386, table=tables.I386) == errno_ret(1)
    profile["defaultAction"] = "SCMP_ACT_ALLOW"
    profile["syscalls"] = [{"names": ["read"], "action": "SCMP_ACT_ERRNO"}]
    prog = compile_filter(profile, arch="x86_64")
    assert decide(prog, "clone3") == ALLOW  # no stub under a permissive default
    docker = compile_filter(_docker(), arch="x86_64")
    assert decide(docker, "file_setattr") == errno_ret(38)  # 469: newer than Docker's profile
    assert decide(docker, "removexattrat") == ALLOW


@pytest.mark.skipif(not os.path.exists("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
                    reason="kernel headers (linux-libc-dev) not installed")
def test_committed_table_matches_generator() -> None:
    import sampan.runtime.seccomp.gentable as gen

    for module, table in gen.tables().items():
        with open(os.path.join(os.path.dirname(tables.__file__), f"{module}.py")) as f:
            assert f.read() == gen.module_text(module, table), module
