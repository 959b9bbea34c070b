"""Bundles from /bin/busybox and runtimes (sampan-runtime, runc) with temp state roots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sampan.runtime.spec import default_spec

APPLETS = ("sh", "echo", "cat", "ls", "true", "false", "sleep", "id", "hostname", "env", "mount", "grep",
           "readlink", "ps", "stat", "touch", "mkdir", "dnsdomainname", "tty", "test", "kill", "uname", "stty")
SAMPAN = os.path.join(os.path.dirname(sys.executable), "sampan-runtime")
RUNC = shutil.which("runc") or "/usr/sbin/runc"


def make_rootfs(path: str) -> None:
    os.makedirs(os.path.join(path, "bin"), exist_ok=True)
    shutil.copy2("/bin/busybox", os.path.join(path, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(path, "bin", applet))
    for d in ("proc", "sys", "dev", "etc", "tmp"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("rootfs-template") / "rootfs")
    make_rootfs(path)
    return path


class Bundle:
    def __init__(self, path: str, spec: dict[str, Any]) -> None:
        self.path = path
        self.spec = spec

    def write(self) -> Bundle:
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.spec, f)
        return self


@pytest.fixture
def make_bundle(tmp_path: Any, rootfs_template: str) -> Callable[..., Bundle]:
    count = [0]

    def make(args: list[str], edit: Callable[[dict[str, Any]], None] | None = None,
             base: str | None = None) -> Bundle:
        count[0] += 1
        path = os.path.join(base or str(tmp_path), f"bundle{count[0]}")
        os.makedirs(path)
        shutil.copytree(rootfs_template, os.path.join(path, "rootfs"), symlinks=True)
        spec = default_spec()
        spec["process"]["terminal"] = False
        spec["process"]["args"] = args
        spec["linux"]["cgroupsPath"] = f"/sampan-test/{os.path.basename(str(tmp_path))}-{count[0]}"
        if edit:
            edit(spec)
        return Bundle(path, spec).write()

    return make


@pytest.fixture
def open_dir() -> Iterator[str]:
    """A world-traversable temp dir (pytest's are 0700): a user namespace's root must reach the rootfs."""
    import tempfile

    path = tempfile.mkdtemp(prefix="sampan-rt-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Runtime:
    """One runtime binary with its own temp --root; remembers containers to clean up."""

    def __init__(self, name: str, binary: str, root: str) -> None:
        self.name = name
        self.binary = binary
        self.root = root

    def __call__(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
        """Run a command; output goes through files, not pipes: a created container holds the
        runtime's stdio open, so reading pipes to EOF would wait for the container to exit."""
        import tempfile

        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            res = subprocess.run([self.binary, "--root", self.root, *args], stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=err, timeout=timeout, check=False)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(res.args, res.returncode, out.read(), err.read())

    def ok(self, *args: str) -> str:
        res = self(*args)
        assert res.returncode == 0, f"{self.name} {args}: rc={res.returncode} {res.stderr.decode()}"
        return res.stdout.decode()

    def state(self, cid: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.ok("state", cid))
        return out

    def cleanup(self) -> None:
        res = self("list", "-q")
        for cid in res.stdout.decode().split():
            self("delete", "--force", cid)


@pytest.fixture
def sampan(tmp_path: Any) -> Iterator[Runtime]:
    rt = Runtime("sampan-runtime", SAMPAN, str(tmp_path / "sampan-root"))
    yield rt
    rt.cleanup()
    _remove_test_cgroups()


@pytest.fixture
def runc(tmp_path: Any) -> Iterator[Runtime]:
    if not os.path.exists(RUNC):
        pytest.skip("runc is not installed (Debian package runc)")
    rt = Runtime("runc", RUNC, str(tmp_path / "runc-root"))
    yield rt
    rt.cleanup()
    _remove_test_cgroups()


def _remove_test_cgroups() -> None:
    for hier in os.listdir("/sys/fs/cgroup"):
        base = os.path.join("/sys/fs/cgroup", hier, "sampan-test")
        if not os.path.isdir(base):
            continue
        for name in os.listdir(base):
            if os.path.isdir(os.path.join(base, name)):
                try:
                    os.rmdir(os.path.join(base, name))
                except OSError:
                    pass
        try:
            os.rmdir(base)
        except OSError:
            pass
