"""Every generated spec must pass sampan-runtime's own config validation (what `create` checks)."""

from __future__ import annotations

import json

import pytest

from sampan.daemon.containers.spec import generate_spec
from sampan.runtime.config import parse
from sampan.runtime.seccomp.compiler import compile_filter

CASES = [
    ({}, {}),
    ({"Tty": True, "User": "u1", "Env": ["A=1"], "WorkingDir": "/srv"}, {"GroupAdd": ["audio"]}),
    ({}, {"ReadonlyRootfs": True, "Tmpfs": {"/run": "size=1m"}, "ShmSize": 1 << 20}),
    ({}, {"CapAdd": ["ALL"], "SecurityOpt": ["no-new-privileges"]}),
    ({}, {"CapDrop": ["ALL"], "CapAdd": ["CHOWN"], "SecurityOpt": ["seccomp=unconfined"]}),
    ({}, {"Privileged": True}),
    ({"Hostname": "h", "Domainname": "d"}, {"NetworkMode": "none", "Memory": 64 << 20, "NanoCpus": 500_000_000,
                                           "PidsLimit": 10, "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 20}]}),
    ({}, {"NetworkMode": "host", "PidMode": "host", "IpcMode": "host", "UTSMode": "host"}),
    ({}, {"Init": True, "OomScoreAdj": 10, "Sysctls": {"kernel.shmmax": "100000"}}),
    ({}, {"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/n2", "CgroupPermissions": "rw"}]}),
    ({}, {"IpcMode": "none", "CgroupnsMode": "private"}),
    ({}, {"Mounts": [{"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o700}}]}),
]


@pytest.mark.parametrize(("config", "host_config"), CASES)
def test_runtime_validates_generated_spec(make_inputs, config: dict, host_config: dict, tmp_path) -> None:
    hc = dict(host_config)
    hc["Binds"] = [f"{tmp_path}/bind-src:/data:ro"]
    spec = generate_spec(make_inputs(config, hc, init_path="/usr/bin/true"))
    spec = json.loads(json.dumps(spec))  # what goes to disk
    cfg = parse(spec, str(tmp_path), check_rootfs=True)
    assert cfg.process is not None and cfg.process.args
    if "seccomp" in spec["linux"]:
        assert compile_filter(spec["linux"]["seccomp"])
