"""A real sampand with an image made for exec tests: more applets, a user `app` (1000:1000) in
groups `app` and `extra`, a working directory /srv."""

from __future__ import annotations

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
from tests.support.images import Entry, Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

EXEC_APPLETS = (*BUSYBOX_APPLETS, "ps", "grep", "touch", "pwd", "stat", "wc", "stty")


@pytest.fixture(scope="session")
def exec_ref(registry: LocalRegistry) -> str:
    entries = [e for e in busybox_entries(EXEC_APPLETS) if e.path not in ("etc/passwd", "etc/group")]
    entries.append(Entry("etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"))
    entries.append(Entry("etc/group", data=b"root:x:0:\napp:x:1000:\nextra:x:1500:app\n"))
    entries += [Entry("srv", "dir"), Entry("srv/notexec", data=b"#!/bin/sh\necho no\n", mode=0o644)]
    image = build_image([make_layer(entries)], cmd=["sleep", "300"], env=["PATH=/bin", "FROM_IMAGE=1"])
    Pusher(registry.url).push_image("exec/busybox", "latest", image)
    return f"{registry.host}/exec/busybox:latest"


@pytest.fixture(scope="module")
def daemon(exec_ref: str) -> Iterator[DaemonProcess]:
    with daemon_with("exec", exec_ref) as proc:
        yield proc
