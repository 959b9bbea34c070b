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


# In CI (CI=true, root, everything installed) a skip means something is missing: fail the run.
# A test whose skip is legitimate even there says so with a reason starting "optional:".
_unexpected_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if "optional:" not in reason:
            _unexpected_skips.append(f"{report.nodeid}: {reason}")


# Tests use temp roots: the host's own sampan state (default roots and socket) must not change.
HOST_STATE = ("/run/sampan", "/var/lib/sampan", "/etc/sampan")


def _host_state() -> dict[str, tuple[int, int]]:
    seen: dict[str, tuple[int, int]] = {}
    for top in HOST_STATE:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [*dirnames, *filenames]:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                seen[path] = (st.st_ino, st.st_mtime_ns)
    return seen


_host_state_at_start: dict[str, tuple[int, int]] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _host_state_at_start.update(_host_state())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unexpected_skips and exitstatus == 0:
        print("\nunexpected skips in CI:\n  " + "\n  ".join(_unexpected_skips))
        session.exitstatus = 1
    now = _host_state()
    changed = sorted(p for p in now.keys() | _host_state_at_start.keys()
                     if now.get(p) != _host_state_at_start.get(p))
    if changed and session.exitstatus == 0:
        print("\ntests changed the host's own sampan state:\n  " + "\n  ".join(changed[:20]))
        session.exitstatus = 1
