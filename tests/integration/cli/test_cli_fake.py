"""The installed `sampan` console script as a separate process, against the fake daemon."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.unit.client import samples
from tests.unit.client.fakeserver import FakeDaemon

SCRIPT = os.path.join(os.path.dirname(sys.executable), "sampan")


def sampan_argv() -> list[str]:
    return [SCRIPT] if os.path.exists(SCRIPT) else [sys.executable, "-m", "sampan.cli.main"]


@pytest.fixture(scope="module")
def daemon() -> Iterator[FakeDaemon]:
    with FakeDaemon() as d:
        samples.install(d)
        yield d


def run(daemon: FakeDaemon, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DOCKER_HOST=daemon.docker_host)
    env.pop("DOCKER_API_VERSION", None)
    return subprocess.run([*sampan_argv(), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=30)


def test_images_and_exit_codes(daemon: FakeDaemon) -> None:
    r = run(daemon, "images")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0] == "REPOSITORY                TAG       IMAGE ID       CREATED              SIZE"
    assert run(daemon, "images", "--nope").returncode == 125
    assert run(daemon, "nope").returncode == 1
    missing = run(daemon, "image", "inspect", "missing")
    assert (missing.returncode, missing.stderr) == (1, "Error: No such image: missing\n")


def test_pull_to_a_pipe_prints_plain_lines(daemon: FakeDaemon) -> None:
    r = run(daemon, "pull", "busybox")
    assert r.returncode == 0 and "\x1b[" not in r.stdout
    assert r.stdout.splitlines()[-1] == "docker.io/library/busybox:latest"


def test_global_host_flag_wins_over_environment(daemon: FakeDaemon, tmp_path: os.PathLike[str]) -> None:
    r = subprocess.run([*sampan_argv(), "-H", daemon.docker_host, "version", "--format", "{{.Server.Version}}"],
                       env=dict(os.environ, DOCKER_HOST=f"unix://{os.fspath(tmp_path)}/none.sock"),
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout) == (0, "0.1.0\n")


def test_no_daemon_message(tmp_path: os.PathLike[str]) -> None:
    host = f"unix://{os.fspath(tmp_path)}/none.sock"
    r = subprocess.run([*sampan_argv(), "-H", host, "info"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr == f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?\n"


def test_version_flag_and_help_need_no_daemon() -> None:
    r = subprocess.run([*sampan_argv(), "-v"], capture_output=True, text=True, timeout=30)
    assert r.stdout.startswith("sampan version 0.1.0, build ")
    r = subprocess.run([*sampan_argv(), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "Management Commands:" in r.stdout


def test_startup_imports_stay_light() -> None:
    """`sampan --help` must not load the daemon, asyncio, http.client or typing."""
    code = ("import sys, io; from sampan.cli.main import run; run(['--help'], stdout=io.StringIO()); "
            "print(' '.join(sorted(sys.modules)))")
    mods = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=30).stdout.split())
    for heavy in ("asyncio", "http.client", "ssl", "email", "sampan.daemon", "sampan.server", "dataclasses",
                  "typing", "sampan.client.api"):
        assert heavy not in mods, heavy
