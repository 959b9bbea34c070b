"""Bundles whose config.json comes from generate_spec, run by runc and by sampan-runtime."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sampan.daemon.containers.spec import SpecInputs, generate_spec
from tests.support.images import busybox_entries

APPLETS = ("sh", "echo", "cat", "ls", "true", "false", "sleep", "id", "hostname", "env", "mount", "grep", "touch",
           "mkdir", "dnsdomainname", "test", "ulimit", "tr")
RUNTIMES = {
    "runc": shutil.which("runc") or "/usr/sbin/runc",
    "sampan-runtime": os.path.join(os.path.dirname(sys.executable), "sampan-runtime"),
}
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nu1:x:1000:1000::/home/u1:/bin/sh\n"
GROUP = b"root:x:0:\nwheel:x:10:root,u1\nu1:x:1000:\nnogroup:x:65534:\n"


def write_entries(root: str) -> None:
    for e in busybox_entries(APPLETS):
        path = os.path.join(root, e.path)
        if e.kind == "dir":
            os.makedirs(path, exist_ok=True)
            os.chmod(path, e.mode if e.mode != 0o644 else 0o755)
        elif e.kind == "symlink":
            os.symlink(e.target, path)
        elif e.kind == "file":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(e.data)
            os.chmod(path, e.mode)
    with open(os.path.join(root, "etc", "passwd"), "wb") as f:
        f.write(PASSWD)
    with open(os.path.join(root, "etc", "group"), "wb") as f:
        f.write(GROUP)


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("spec-rootfs") / "rootfs")
    os.makedirs(path)
    write_entries(path)
    return path


class Result:
    def __init__(self, rc: int, out: str, err: str, spec: dict[str, Any]) -> None:
        self.rc, self.out, self.err, self.spec = rc, out, err, spec


@pytest.fixture
def cgroup_parent() -> Iterator[str]:
    name = f"sampan-spec-test-{os.getpid()}"
    yield "/" + name
    for hier in os.listdir("/sys/fs/cgroup"):
        base = os.path.join("/sys/fs/cgroup", hier, name)
        if os.path.isdir(base):
            for child in os.listdir(base):
                if os.path.isdir(os.path.join(base, child)):
                    os.rmdir(os.path.join(base, child))
            os.rmdir(base)


@pytest.fixture(params=sorted(RUNTIMES))
def run_container(request: pytest.FixtureRequest, tmp_path: Any, rootfs_template: str,
                  cgroup_parent: str) -> Callable[..., Result]:
    """Generate a spec for (Config, HostConfig), run it to completion with one runtime, return its output."""
    binary = RUNTIMES[request.param]
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: install the runc package / the project venv")
    state_root = str(tmp_path / "state")

    def run(config: dict[str, Any], host_config: dict[str, Any] | None = None,
            hosts: str = "127.0.0.1\tlocalhost\n", init_path: str | None = None) -> Result:
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        bundle = tmp_path / cid[:12]
        cdir = bundle / "cdir"
        cdir.mkdir(parents=True)
        rootfs = str(bundle / "rootfs")
        shutil.copytree(rootfs_template, rootfs, symlinks=True)
        (cdir / "hosts").write_text(hosts)
        (cdir / "hostname").write_text((config.get("Hostname") or cid[:12]) + "\n")
        (cdir / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        spec = generate_spec(SpecInputs(
            container_id=cid, config=config, host_config=host_config or {}, image_config={}, rootfs=rootfs,
            hosts_path=str(cdir / "hosts"), hostname_path=str(cdir / "hostname"),
            resolv_conf_path=str(cdir / "resolv.conf"), shm_path=None, cgroup_parent=cgroup_parent,
            init_path=init_path))
        with open(bundle / "config.json", "w") as f:
            json.dump(spec, f)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            res = subprocess.run([binary, "--root", state_root, "run", "-b", str(bundle), cid],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=60, check=False)
            out.seek(0)
            err.seek(0)
            subprocess.run([binary, "--root", state_root, "delete", "--force", cid], capture_output=True,
                           timeout=30, check=False)
            return Result(res.returncode, out.read().decode(), err.read().decode(), spec)

    return run
