"""A real sampand on temp roots for the CLI's container commands, with images from the local registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.containers.conftest import (  # noqa: F401 (fixture re-exported)
    BUSYBOX_APPLETS,
    busybox_ref,
    cleanup_daemon,
    daemon_with,
    start_daemon,
)
from tests.support.daemon import DaemonProcess
from tests.support.images import Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry


@pytest.fixture(scope="session")
def unpulled_ref(registry: LocalRegistry) -> str:
    """An image in the registry that no daemon has pulled: `run` must pull it itself."""
    layer = make_layer(busybox_entries(BUSYBOX_APPLETS))
    image = build_image([layer], cmd=["echo", "from-a-pulled-image"], env=["PATH=/bin"])
    Pusher(registry.url).push_image("cli/unpulled", "v1", image)
    return f"{registry.host}/cli/unpulled:v1"


@pytest.fixture(scope="module")
def daemon(busybox_ref: str) -> Iterator[DaemonProcess]:  # noqa: F811
    with daemon_with("cli", busybox_ref) as proc:
        yield proc
