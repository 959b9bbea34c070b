"""What the copy helper is told to enter: binds and volumes from HostConfig, and its refusal to
enter a host process's mount namespace."""

from __future__ import annotations

import os
from typing import Any

import pytest

from sampan.daemon.containers import fsviews, nscopy
from sampan.daemon.containers.copying import Bind
from sampan.daemon.containers.record import ContainerRecord
from sampan.errdefs import Conflict


def record(tmp_path: object, host_config: dict[str, Any]) -> ContainerRecord:
    directory = str(tmp_path)
    for name in ("hosts", "hostname", "resolv.conf"):
        with open(os.path.join(directory, name), "w") as f:
            f.write("x\n")
    return ContainerRecord(id="c" * 64, name="n", created="", created_ns=0, image_id="", image_name="", path="true",
                           args=[], config={}, host_config=host_config, image_config={}, driver="overlay",
                           dir=directory)


def test_binds_of_a_stopped_container(tmp_path: object) -> None:
    src = str(tmp_path)
    rec = record(tmp_path, {"Binds": [f"{src}:/data:ro", f"{src}:/etc/hosts"], "ReadonlyRootfs": True,
                            "Tmpfs": {"/scratch": ""},
                            "Mounts": [{"Type": "bind", "Source": src, "Target": "/m",
                                        "BindOptions": {"NonRecursive": True}}]})
    binds = fsviews._binds(rec)
    assert Bind(src, "/data", True, True) in binds and Bind(src, "/m", False, False) in binds
    assert Bind(src, "/etc/hosts", False, True) in binds  # the user's bind wins over the hosts file
    assert Bind(rec.hostname_path, "/etc/hostname", True, False) in binds  # read-only with the rootfs
    assert Bind(rec.resolv_conf_path, "/etc/resolv.conf", True, False) in binds
    assert not any(b.destination == "/scratch" for b in binds)  # a tmpfs is not there when stopped
    assert set(fsviews._volumes(rec)) == {("/data", True), ("/etc/hosts", False), ("/m", False), ("/scratch", False)}


def test_bad_host_config_gives_no_binds(tmp_path: object) -> None:
    rec = record(tmp_path, {"Binds": ["nonsense"]})
    assert fsviews._volumes(rec) == ()
    assert {b.destination for b in fsviews._binds(rec)} == {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}


def test_the_helper_refuses_a_process_in_the_host_mount_namespace() -> None:
    with pytest.raises(Conflict, match="not in a container mount namespace"):
        nscopy._enter_running(os.getpid())  # our own pid: the daemon's namespace, never a container's
