"""Fixtures: a fake engine, and runners for `sampan` (in-process or as a program) and `docker`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from sampan.cli.main import run
from tests.unit.cli_containers.fakeengine import FakeEngine

DOCKER = "/usr/local/bin/docker"  # docker 28.x; /usr/bin/docker is Debian's older one


class Result:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err

    def __repr__(self) -> str:
        return f"Result({self.status}, {self.out!r}, {self.err!r})"


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> Iterator[FakeEngine]:
    monkeypatch.setenv("DOCKER_CONFIG", os.fspath(tmp_path))
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)
    monkeypatch.delenv("SAMPAN_HOST", raising=False)
    with FakeEngine() as e:
        monkeypatch.setenv("DOCKER_HOST", e.docker_host)
        yield e


def sampan(*argv: str, stdin: str = "") -> Result:
    """In-process, with in-memory streams."""
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return Result(status, out.getvalue(), err.getvalue())


def program(argv: list[str], *, stdin: str = "", env: dict[str, str] | None = None) -> Result:
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, SAMPAN_NO_AUTOSTART="1", **(env or {})))
    return Result(r.returncode, r.stdout, r.stderr)


def sampan_program(*argv: str, stdin: str = "") -> Result:
    return program([sys.executable, "-m", "sampan.cli.main", *argv], stdin=stdin)


def docker(*argv: str, stdin: str = "") -> Result:
    if not os.path.exists(DOCKER):
        pytest.fail(f"{DOCKER} is needed for the differential tests (docker 28)")
    return program([DOCKER, *argv], stdin=stdin)
