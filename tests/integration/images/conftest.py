"""Fixtures for image service integration tests: a fault proxy before the registry, a service."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from sampan.daemon.images.service import ImageService
from tests.support.faultproxy import FaultProxy
from tests.support.images import Image, ImageIndex, Pusher
from tests.support.registry import LocalRegistry

_repo_counter = itertools.count()


@pytest.fixture(scope="module")
def proxy(registry: LocalRegistry) -> Iterator[FaultProxy]:
    p = FaultProxy(registry.url).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def service(tmp_path) -> Iterator[ImageService]:  # type: ignore[no-untyped-def]
    svc = ImageService.open(str(tmp_path / "root"))
    try:
        yield svc
    finally:
        svc.close()


class Repo:
    """A fresh repository name in the shared registry, reached through the proxy."""

    def __init__(self, registry: LocalRegistry, proxy: FaultProxy, stem: str) -> None:
        self.path = f"it-images/{stem}{next(_repo_counter)}"
        self.pusher = Pusher(registry.url)
        self.proxy = proxy

    def push(self, image: Image, tag: str = "latest") -> str:
        self.pusher.push_image(self.path, tag, image)
        return f"{self.proxy.host}/{self.path}:{tag}"

    def push_index(self, index: ImageIndex, tag: str = "latest") -> str:
        self.pusher.push_index(self.path, tag, index)
        return f"{self.proxy.host}/{self.path}:{tag}"


@pytest.fixture
def repo(registry: LocalRegistry, proxy: FaultProxy, request: pytest.FixtureRequest) -> Iterator[Repo]:
    proxy.clear()
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower()).strip("-")[:24]
    yield Repo(registry, proxy, stem + "-")
    proxy.clear()
