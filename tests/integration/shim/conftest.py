"""Fixtures for shim tests: temp bundles, a private runc root, and cleanup of every shim by pid."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from sampan.shim.client import ShimClient
from tests.integration.shim.bundle import RUNC, make_bundle

# The runtime under the shim: runc by default; SAMPAN_SHIM_TEST_RUNTIME=/path/to/sampan-runtime
# runs the same tests over sampan's own runtime.
RUNTIME = os.environ.get("SAMPAN_SHIM_TEST_RUNTIME", RUNC)


class ShimEnv:
    """One temp tree per test: bundles/<n>, state/<n>, logs/<n>.json and a runtime --root."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.runtime = RUNTIME
        self.runtime_root = os.path.join(root, "runc")
        self._n = 0
        self.state_dirs: list[str] = []
        self.zygotes: list[str] = []

    def spawn(self, args: list[str], *, tty: bool = False, stdin: bool = False,
              log_opts: dict[str, str] | None = None) -> tuple[ShimClient, str, str]:
        """A shim running a created container; returns (client, container id, log path)."""
        cid, bundle, state_dir, log_path = self.prepare(args, tty=tty)
        client = ShimClient.spawn(cid, bundle, state_dir, runtime=self.runtime, runtime_root=self.runtime_root,
                                  log_path=log_path, log_opts=log_opts, tty=tty, stdin=stdin)
        return client, cid, log_path

    def spawn_prepared(self, cid: str, bundle: str, state_dir: str, log_path: str | None, *,
                       zygote: str | None = None) -> ShimClient:
        return ShimClient.spawn(cid, bundle, state_dir, runtime=self.runtime, runtime_root=self.runtime_root,
                                log_path=log_path, zygote=zygote)

    def runtime_knows(self, cid: str) -> bool:
        """Does `RUNTIME state ID` find the container?"""
        state = subprocess.run([self.runtime, "--root", self.runtime_root, "state", cid], capture_output=True,
                               check=False)
        return state.returncode == 0

    def prepare(self, args: list[str], *, tty: bool = False) -> tuple[str, str, str, str]:
        self._n += 1
        cid = f"shimtest-{os.getpid()}-{self._n}"
        bundle = make_bundle(os.path.join(self.root, "bundles", str(self._n)), args, terminal=tty)
        state_dir = os.path.join(self.root, "state", str(self._n))
        self.state_dirs.append(state_dir)
        log_path = os.path.join(self.root, "logs", f"{self._n}.json")
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        return cid, bundle, state_dir, log_path

    def cleanup(self) -> None:
        for zygote in self.zygotes:
            pid = _read_pid(zygote + ".pid")
            if pid and _is_shim(pid):
                os.kill(pid, signal.SIGKILL)
                wait_gone(pid)
        for state_dir in self.state_dirs:
            pid = _read_pid(os.path.join(state_dir, "shim.pid"))
            if pid and _is_shim(pid):
                os.kill(pid, signal.SIGKILL)
                wait_gone(pid)
        if os.path.isdir(self.runtime_root):
            for cid in os.listdir(self.runtime_root):
                subprocess.run([self.runtime, "--root", self.runtime_root, "delete", "--force", cid],
                               capture_output=True, check=False)


def _read_pid(path: str) -> int:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return 0


def _is_shim(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"sampan.shim" in f.read()
    except OSError:
        return False


def process_gone(pid: int) -> bool:
    """Gone or a zombie (its parent, not us, reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def shim_env() -> Iterator[ShimEnv]:
    root = tempfile.mkdtemp(prefix="sampan-shim-test-")
    env = ShimEnv(root)
    try:
        yield env
    finally:
        env.cleanup()
        shutil.rmtree(root, ignore_errors=True)
