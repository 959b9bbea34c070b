"""A real sampand with busybox pulled (the containers tests' fixtures), and an image only these tests pull."""

from __future__ import annotations

import pytest

from tests.integration.containers.conftest import (  # noqa: F401 (fixtures re-exported)
    BUSYBOX_APPLETS,
    busybox_ref,
    daemon,
)
from tests.support.images import Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry


@pytest.fixture(scope="session")
def labelled_ref(registry: LocalRegistry) -> str:
    """An image with a label, pulled and deleted by the image event tests."""
    layer = make_layer(busybox_entries(("sh", "true")))
    image = build_image([layer], cmd=["true"], env=["PATH=/bin"], labels={"org.test": "events"})
    Pusher(registry.url).push_image("events/labelled", "v1", image)
    return f"{registry.host}/events/labelled:v1"
