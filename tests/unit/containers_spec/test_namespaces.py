from __future__ import annotations

import os

import pytest

from sampan.daemon.containers.spec import generate_spec, validate_config
from sampan.errdefs import InvalidArgument

V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def _ns(spec: dict) -> list[dict]:
    return spec["linux"]["namespaces"]


def test_default_namespaces(make_inputs) -> None:
    want = [{"type": t} for t in ("mount", "network", "uts", "pid", "ipc")] + ([{"type": "cgroup"}] if V2 else [])
    assert _ns(generate_spec(make_inputs())) == want
    for mode in ("none", "default", "bridge"):
        assert {"type": "network"} in _ns(generate_spec(make_inputs(host_config={"NetworkMode": mode})))


def test_cgroupns_modes(make_inputs) -> None:
    assert {"type": "cgroup"} in _ns(generate_spec(make_inputs(host_config={"CgroupnsMode": "private"})))
    assert {"type": "cgroup"} not in _ns(generate_spec(make_inputs(host_config={"CgroupnsMode": "host"})))


def test_host_modes(make_inputs) -> None:
    spec = generate_spec(make_inputs(host_config={"NetworkMode": "host", "PidMode": "host", "IpcMode": "host"}))
    types = [n["type"] for n in _ns(spec)]
    assert "network" not in types and "pid" not in types and "ipc" not in types
    assert "mount" in types and "uts" in types


def test_container_modes(make_inputs) -> None:
    paths = {"network": "/proc/10/ns/net", "pid": "/proc/10/ns/pid", "ipc": "/proc/10/ns/ipc"}
    spec = generate_spec(make_inputs(host_config={"NetworkMode": "container:abc", "PidMode": "container:abc",
                                                  "IpcMode": "container:abc"}, namespace_paths=paths))
    ns = _ns(spec)
    assert {"type": "network", "path": "/proc/10/ns/net"} in ns
    assert {"type": "pid", "path": "/proc/10/ns/pid"} in ns
    assert {"type": "ipc", "path": "/proc/10/ns/ipc"} in ns
    assert "sysctl" not in spec["linux"]
    with pytest.raises(InvalidArgument, match="cannot join the pid namespace of abc"):
        generate_spec(make_inputs(host_config={"PidMode": "container:abc"}))
    with pytest.raises(InvalidArgument, match="conflicting options: hostname and the network mode"):
        validate_config({"Hostname": "h"}, {"NetworkMode": "container:abc"})
    assert generate_spec(make_inputs({"Hostname": "h"}, {"NetworkMode": "container:abc"}, namespace_paths=paths))
