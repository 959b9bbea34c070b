"""A sampand on temp roots with a busybox image pulled from the local registry, shared by the
container tests of a module; everything it made is removed and its mounts checked at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from sampan.shim.client import stop_zygote
from tests.support.daemon import DaemonProcess
from tests.support.images import Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

BUSYBOX_APPLETS = ("sh", "echo", "cat", "ls", "true", "false", "sleep", "id", "hostname", "env", "mount",
                   "kill", "head", "seq", "printf", "ip", "readlink")


@pytest.fixture(scope="session")
def busybox_ref(registry: LocalRegistry) -> str:
    layer = make_layer(busybox_entries(BUSYBOX_APPLETS))
    image = build_image([layer], cmd=["sh"], env=["PATH=/bin"])
    Pusher(registry.url).push_image("containers/busybox", "latest", image)
    return f"{registry.host}/containers/busybox:latest"


def mounts_under(path: str) -> list[str]:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(real)]


def short_tmpdir(prefix: str) -> str:
    """A temp dir of our own under /tmp: short (shim sockets live below it, AF_UNIX paths are
    limited) and out of pytest's basetemp, which concurrent pytest sessions prune."""
    return tempfile.mkdtemp(prefix=f"sct-{prefix}-", dir="/tmp")


def start_daemon(prefix: str, **kw: object) -> DaemonProcess:
    return DaemonProcess(short_tmpdir(prefix), **kw).start()  # type: ignore[arg-type]


def cleanup_daemon(proc: DaemonProcess) -> None:
    """Remove every container, stop the daemon and the shim zygote; no mount may remain."""
    try:
        if proc.proc is not None and proc.proc.poll() is None:
            _status, items = proc.json("GET", "/containers/json?all=1")
            for item in items or []:
                proc.request("DELETE", f"/containers/{item['Id']}?force=1", timeout=60)
    finally:
        try:
            proc.stop()
        finally:
            stop_zygote(os.path.join(proc.exec_root, "shim-zygote.sock"))
    left = mounts_under(proc.tmpdir)
    assert not left, f"mounts left behind: {left}"
    shutil.rmtree(proc.tmpdir, ignore_errors=True)


@contextlib.contextmanager
def daemon_with(prefix: str, image_ref: str) -> Iterator[DaemonProcess]:
    """A sampand on temp roots that has pulled `image_ref`; everything cleaned up after."""
    proc = start_daemon(prefix)
    try:
        status, _, body = proc.request("POST", f"/images/create?fromImage={image_ref}", timeout=120)
        assert status == 200 and b"error" not in body, body
        yield proc
    finally:
        cleanup_daemon(proc)


@pytest.fixture(scope="module")
def daemon(busybox_ref: str) -> Iterator[DaemonProcess]:
    with daemon_with("ctr", busybox_ref) as proc:
        yield proc
