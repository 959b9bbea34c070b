"""The exec's OCI process: what it inherits from the container and what the exec changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sampan.daemon.containers.exec_process import exec_env, exec_process, user_lookup
from sampan.daemon.containers.spec_security import all_capabilities
from sampan.errdefs import InvalidArgument

CAPS = ["CAP_CHOWN", "CAP_KILL"]


def container_process(**extra: Any) -> dict[str, Any]:
    proc: dict[str, Any] = {
        "terminal": False, "user": {"uid": 0, "gid": 0, "additionalGids": [0]}, "args": ["sleep", "300"],
        "env": ["PATH=/bin", "HOSTNAME=abc", "FROM_IMAGE=1"], "cwd": "/work",
        "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS},
        "noNewPrivileges": True, "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 10}],
        "apparmorProfile": "docker-default", "oomScoreAdj": 500, "selinuxLabel": "system_u:system_r:c1",
        "consoleSize": {"height": 1, "width": 2},
    }
    proc.update(extra)
    return proc


def no_lookup(user: str) -> dict[str, Any]:
    raise AssertionError(f"no user lookup expected, got {user!r}")


def build(proc: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    opts: dict[str, Any] = dict(args=["ls", "-l"], user="", env=[], cwd="", tty=False, privileged=False,
                                passwd_lookup=no_lookup)
    opts.update(kw)
    return exec_process(proc or container_process(), **opts)


def test_inherits_the_container_security_and_limits() -> None:
    proc = build()
    assert proc == {
        "terminal": False, "args": ["ls", "-l"], "env": ["PATH=/bin", "HOSTNAME=abc", "FROM_IMAGE=1"],
        "cwd": "/work", "user": {"uid": 0, "gid": 0, "additionalGids": [0]},
        "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS},
        "noNewPrivileges": True, "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 10}],
        "apparmorProfile": "docker-default", "oomScoreAdj": 500, "selinuxLabel": "system_u:system_r:c1",
    }


def test_does_not_share_the_container_objects() -> None:
    container = container_process()
    proc = build(container)
    proc["rlimits"][0]["hard"] = 99
    proc["user"]["uid"] = 5
    assert container["rlimits"][0]["hard"] == 10 and container["user"]["uid"] == 0


def test_env_cwd_and_tty() -> None:
    proc = build(env=["FROM_IMAGE=2", "NEW=x", "HOSTNAME"], cwd="/srv/../tmp", tty=True)
    assert proc["env"] == ["PATH=/bin", "FROM_IMAGE=2", "TERM=xterm", "NEW=x"]
    assert proc["cwd"] == "/tmp" and proc["terminal"] is True
    assert build(cwd="sub")["cwd"] == "/work/sub"


def test_term_follows_the_exec_tty() -> None:
    env = ["PATH=/bin", "TERM=xterm"]
    assert exec_env(env, [], tty=False, container_tty=True) == ["PATH=/bin"]
    assert exec_env(env, [], tty=True, container_tty=True) == env
    assert exec_env(["TERM=vt100"], [], tty=True, container_tty=False) == ["TERM=vt100"]


def test_user_is_resolved_and_caps_follow_the_uid() -> None:
    calls = []

    def lookup(user: str) -> dict[str, Any]:
        calls.append(user)
        return {"uid": 1000, "gid": 1000, "additionalGids": [1000, 1500]}

    proc = build(user="app", passwd_lookup=lookup)
    assert calls == ["app"] and proc["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [1000, 1500]}
    assert proc["capabilities"] == {"bounding": CAPS}  # execve as non-root keeps only the bounding set


def test_root_exec_in_a_non_root_container_gets_the_bounding_set_effective() -> None:
    container = container_process(user={"uid": 1000, "gid": 1000}, capabilities={"bounding": CAPS})
    proc = build(container, user="0", passwd_lookup=lambda u: {"uid": 0, "gid": 0, "additionalGids": [0]})
    assert proc["capabilities"] == {"bounding": CAPS, "effective": CAPS, "permitted": CAPS}
    assert build(container)["capabilities"] == {"bounding": CAPS}


def test_privileged_gets_every_capability() -> None:
    caps = all_capabilities()
    proc = build(privileged=True)
    assert proc["capabilities"] == {"bounding": caps, "effective": caps, "permitted": caps}
    assert proc["noNewPrivileges"] is True  # privileged does not lift the container's other limits


def test_ambient_and_inheritable_stay_within_the_bounding_set() -> None:
    container = container_process(capabilities={"bounding": CAPS, "effective": CAPS, "permitted": CAPS,
                                                "inheritable": ["CAP_KILL", "CAP_SYS_ADMIN"],
                                                "ambient": ["CAP_KILL"]})
    caps = build(container)["capabilities"]
    assert caps["inheritable"] == ["CAP_KILL"] and caps["ambient"] == ["CAP_KILL"]


def test_empty_command_is_refused() -> None:
    with pytest.raises(ValueError):
        build(args=[])


def test_user_lookup_reads_the_container_files(tmp_path: Path) -> None:
    os.makedirs(tmp_path / "etc")
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\napp:x:1000:\nextra:x:1500:app\nadded:x:1600:\n")
    lookup = user_lookup(str(tmp_path), ["added"])
    assert lookup("app") == {"uid": 1000, "gid": 1000, "additionalGids": [1000, 1500, 1600]}
    assert lookup("app:extra") == {"uid": 1000, "gid": 1500, "additionalGids": [1500, 1600]}
    assert lookup("4242") == {"uid": 4242, "gid": 0, "additionalGids": [0, 1600]}
    with pytest.raises(InvalidArgument, match="unable to find user ghost"):
        lookup("ghost")
