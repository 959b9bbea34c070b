"""Runtimes: the built-in ones, daemon.json `runtimes`, --add-runtime and --default-runtime."""

from __future__ import annotations

import json

import pytest

from sampan.daemon.config import load_config
from sampan.daemon.containers.settings import BUILTIN_RUNTIME, ContainerSettings
from sampan.errdefs import InvalidArgument


def test_runtime_lookup() -> None:
    s = ContainerSettings("/d", "/e", runtimes={BUILTIN_RUNTIME: "/bin/sr", "runc": "/usr/sbin/runc"})
    assert s.runtime_for("") == (BUILTIN_RUNTIME, "/bin/sr")
    assert s.runtime_for("runc") == ("runc", "/usr/sbin/runc")
    with pytest.raises(InvalidArgument, match="unknown or invalid runtime name: crun"):
        s.runtime_for("crun")


def test_config_runtimes(tmp_path: object) -> None:
    path = f"{tmp_path}/daemon.json"
    with open(path, "w") as f:
        json.dump({"runtimes": {"crun": {"path": "/usr/bin/crun"}}, "default-runtime": "crun"}, f)
    config = load_config(["--config-file", path])
    assert config.runtimes == (("crun", "/usr/bin/crun"),) and config.default_runtime == "crun"
    config = load_config(["--add-runtime", "x=/bin/x", "--default-runtime", "x", "--config-file", _empty(tmp_path)])
    assert config.runtimes == (("x", "/bin/x"),) and config.default_runtime == "x"
    with pytest.raises(InvalidArgument, match="NAME=PATH"):
        load_config(["--add-runtime", "nopath", "--config-file", _empty(tmp_path)])
    with open(path, "w") as f:
        json.dump({"runtimes": {"bad": "/bin/x"}}, f)
    with pytest.raises(InvalidArgument, match="invalid value for runtimes"):
        load_config(["--config-file", path])


def _empty(tmp_path: object) -> str:
    path = f"{tmp_path}/empty.json"
    with open(path, "w") as f:
        f.write("{}")
    return path
