"""Filters compiled by sampan, loaded by the kernel (its verifier checks our BPF) and enforced."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.uname().machine != "x86_64",
                                                   reason="raw syscall numbers in the probe are x86_64's")]

CHILD = os.path.join(os.path.dirname(__file__), "seccomp_child.py")
DOCKER_PROFILE = "/work/shared/specs/docker-defaults/seccomp-default.json"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _run(profile: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "src") + os.pathsep + REPO)
    return subprocess.run([sys.executable, CHILD, json.dumps(profile), *args], capture_output=True,
                          text=True, timeout=30, env=env)


def _probe(profile: dict[str, Any]) -> dict[str, Any]:
    proc = _run(profile, "probe")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_deny_mkdir_and_errno_getpid() -> None:
    out = _probe({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1234},
    ]})
    assert out["seccomp"] == "2" and out["filters"] == "1"
    assert out["mkdir"] == [-1, 1]  # EPERM
    assert out["getpid"] == [-1, 1234]
    assert out["getppid"][0] > 0
    assert out["reboot"] == [-1, 22]  # allowed through to the kernel, which says EINVAL


def test_argument_rules_and_flags() -> None:
    out = _probe({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC",
                                                               "SECCOMP_FILTER_FLAG_LOG"],
                  "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                                "args": [{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_NE"}]}]})
    assert out["personality_query"][0] >= 0
    assert out["personality_1234"] == [-1, 13]


def test_docker_default_profile() -> None:
    with open(DOCKER_PROFILE) as f:
        profile = json.load(f)
    out = _probe(profile)
    assert out["seccomp"] == "2"
    assert out["getpid"] == [out["pid"], 0]
    assert out["mkdir"] == [0, 0]
    assert out["reboot"] == [-1, 1]  # the filter's EPERM, not the kernel's EINVAL
    assert out["personality_query"][0] >= 0
    assert out["personality_1234"] == [-1, 1]


def test_busybox_runs_under_docker_profile() -> None:
    with open(DOCKER_PROFILE) as f:
        profile = json.load(f)
    proc = _run(profile, "exec", BUSYBOX, "sh", "-c", "true && echo ok && grep Seccomp: /proc/self/status")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ok", "Seccomp:", "2"]
    proc = _run(profile, "exec", BUSYBOX, "unshare", "-U", "true")
    assert proc.returncode != 0  # unshare(CLONE_NEWUSER) is refused by the profile


def test_kill_process_action() -> None:
    proc = _run({"defaultAction": "SCMP_ACT_ALLOW",
                 "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"}]},
                "exec", BUSYBOX, "mkdir", "/tmp/sampan-seccomp-never")
    assert proc.returncode == -31  # SIGSYS
    assert not os.path.exists("/tmp/sampan-seccomp-never")


def test_bad_program_is_refused_by_kernel() -> None:
    from sampan import errdefs
    from sampan.linux.seccomp import install_filter

    with pytest.raises(errdefs.InvalidArgument):
        install_filter(b"\x01\x00")
