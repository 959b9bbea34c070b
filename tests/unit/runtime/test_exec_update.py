"""exec's process building (flags over the container's process) and update's resources."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from sampan.errdefs import InvalidArgument
from sampan.runtime.config import parse
from sampan.runtime.exec import ExecOptions, build_process
from sampan.runtime.process import env_dict, find_executable
from sampan.runtime.spec import default_spec
from sampan.runtime.update import resources_from


@pytest.fixture
def cfg(tmp_path: Any) -> Any:
    os.mkdir(tmp_path / "rootfs")
    return parse(default_spec(), str(tmp_path))


def test_exec_overlays_flags(cfg: Any) -> None:
    p = build_process(cfg, ExecOptions(args=("ps", "-ef"), env=("A=1",), cwd="/tmp", user="5:6",
                                       additional_gids=(7,), caps=("CAP_SYS_ADMIN",), tty=True))
    assert p.args == ("ps", "-ef") and p.cwd == "/tmp" and p.terminal
    assert p.env[-1] == "A=1" and p.env[0].startswith("PATH=")
    assert (p.user.uid, p.user.gid, p.user.additional_gids) == (5, 6, (7,))
    assert p.capabilities is not None
    assert "CAP_SYS_ADMIN" in p.capabilities.bounding and "CAP_SYS_ADMIN" in p.capabilities.ambient
    assert p.rlimits == cfg.process.rlimits and p.no_new_privileges


def test_exec_errors(cfg: Any, tmp_path: Any) -> None:
    with pytest.raises(InvalidArgument, match="args must not be empty"):
        build_process(cfg, ExecOptions())
    with pytest.raises(InvalidArgument, match="invalid user"):
        build_process(cfg, ExecOptions(args=("x",), user="root"))
    with pytest.raises(InvalidArgument, match="unknown capability"):
        build_process(cfg, ExecOptions(args=("x",), caps=("CAP_NOPE",)))
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"args": ["echo", "hi"], "cwd": "/", "user": {"uid": 3, "gid": 4}}))
    p = build_process(cfg, ExecOptions(process_file=str(path)))
    assert p.args == ("echo", "hi") and p.user.uid == 3


def test_find_executable(tmp_path: Any) -> None:
    d = tmp_path / "bin"
    d.mkdir()
    exe = d / "tool"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    (d / "plain").write_text("")
    env = env_dict([f"PATH=/nonexistent:{d}", "X=1=2"])
    assert env["X"] == "1=2"
    assert find_executable("tool", env, "/") == str(exe)
    assert find_executable(str(exe), env, "/") == str(exe)
    with pytest.raises(InvalidArgument, match="executable file not found in \\$PATH"):
        find_executable("plain", env, "/")
    with pytest.raises(InvalidArgument, match="no such file or directory"):
        find_executable("/no/such", env, "/")


def test_update_resources_from_flags(tmp_path: Any) -> None:
    res = resources_from({"memory": "1024", "cpu_share": "512", "cpuset_cpus": "0-1", "pids_limit": "9"})
    assert res == {"memory": {"limit": 1024}, "cpu": {"shares": 512, "cpus": "0-1"}, "pids": {"limit": 9}}
    path = tmp_path / "r.json"
    path.write_text('{"pids": {"limit": 3}}')
    assert resources_from({"resources": str(path), "memory": "1"}) == {"pids": {"limit": 3}}
    with pytest.raises(InvalidArgument, match="invalid value for --memory"):
        resources_from({"memory": "x"})


def test_events_shape_and_interval() -> None:
    from sampan.runtime.events import parse_interval, runc_stats

    data = runc_stats({"cpu_stats": {"cpu_usage": {"total_usage": 5, "percpu_usage": [2, 3]},
                                     "throttling_data": {"periods": 1, "throttled_time": 0}},
                       "memory_stats": {"usage": 10, "max_usage": 20, "limit": None, "stats": {"rss": 1}},
                       "pids_stats": {"current": 2, "limit": None}})
    assert data["cpu"] == {"usage": {"total": 5, "percpu": [2, 3], "kernel": 0, "user": 0},
                           "throttling": {"periods": 1}}
    assert data["memory"]["usage"] == {"limit": 0, "usage": 10, "max": 20, "failcnt": 0}
    assert data["pids"] == {"current": 2, "limit": 0}
    assert parse_interval("5s") == 5 and parse_interval("500ms") == 0.5 and parse_interval("1m") == 60
    with pytest.raises(InvalidArgument):
        parse_interval("soon")
