"""Fixtures shared by the whole suite: the local registry and root-only marking."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.registry import LocalRegistry

IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT:
        return
    skip = pytest.mark.skip(reason="needs root (namespaces, mounts, cgroups); CI runs as root")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def registry() -> Iterator[LocalRegistry]:
    """One anonymous docker-registry on 127.0.0.1 for the session; tests use their own repo names."""
    reg = LocalRegistry().start()
    try:
        yield reg
    finally:
        reg.stop()
