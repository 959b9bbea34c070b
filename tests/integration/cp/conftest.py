"""A sampand with a busybox image that has the applets the cp tests script containers with."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.containers.conftest import (  # noqa: F401 (fixtures re-exported)
    BUSYBOX_APPLETS,
    busybox_ref,
    cleanup_daemon,
    daemon_with,
    start_daemon,
)
from tests.support.daemon import DaemonProcess
from tests.support.images import Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

CP_APPLETS = (*BUSYBOX_APPLETS, "ln", "mv", "rm", "mkdir", "mkfifo", "mknod", "stat", "touch", "chmod", "test")


@pytest.fixture(scope="session")
def cp_image(registry: LocalRegistry) -> str:
    layer = make_layer(busybox_entries(CP_APPLETS))
    image = build_image([layer], cmd=["sh"], env=["PATH=/bin"])
    Pusher(registry.url).push_image("cp/busybox", "latest", image)
    return f"{registry.host}/cp/busybox:latest"


@pytest.fixture(scope="module")
def daemon(cp_image: str) -> Iterator[DaemonProcess]:
    with daemon_with("cp", cp_image) as proc:
        yield proc


@pytest.fixture
def host_marker() -> Iterator[str]:
    """A directory on the host that a copy escaping its container would reach: containers point
    symlinks at /etc/../tmp/<it> (so a broken copy touches only this temp dir, never /etc)."""
    path = os.path.join("/tmp", f"sampan-cp-{uuid.uuid4().hex[:12]}-host-marker")
    os.mkdir(path)
    with open(os.path.join(path, "host-secret"), "w") as f:
        f.write("host only\n")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def work_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="sampan-cp-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
