"""Fixtures for integration tests: a real `sampand` on temp roots."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.daemon import DaemonProcess

DaemonFactory = Callable[..., DaemonProcess]


@pytest.fixture
def daemon_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonFactory]:
    """Make (not start) daemons with their own temp roots; all are stopped at teardown."""
    made: list[DaemonProcess] = []

    def make(**kwargs: object) -> DaemonProcess:
        # Short paths: a unix socket path must fit in 108 bytes.
        d = DaemonProcess(str(tmp_path_factory.mktemp("sampand")), **kwargs)  # type: ignore[arg-type]
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


@pytest.fixture
def daemon(daemon_factory: DaemonFactory) -> DaemonProcess:
    """A started `sampand` for one test."""
    return daemon_factory().start()
