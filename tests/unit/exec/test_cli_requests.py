"""`sampan exec` sends what docker 28's `docker exec` sends for the same flags, and reports the
output and exit status the same way (a recording fake API, no daemon)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.exec.recorder import EID, Recorder

DOCKER = "/usr/local/bin/docker"
pytestmark = pytest.mark.skipif(not os.path.exists(DOCKER), reason="needs docker 28 for the comparison")


@pytest.fixture
def env(tmp_path: Any) -> Iterator[dict[str, str]]:
    (tmp_path / "env.list").write_text("# comment\nFROM_FILE=1\nPASSED\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "SAMPAN_"))}
    yield dict(environ, DOCKER_CONFIG=str(tmp_path), SAMPAN_NO_AUTOSTART="1", PASSED="from-env",
               HOME=str(tmp_path))


def run_both(env: dict[str, str], tmp: str, *args: str,
             create_error: str = "") -> list[tuple[subprocess.CompletedProcess[str], Recorder]]:
    out = []
    for argv in ([DOCKER, "exec"], [sys.executable, "-m", "sampan.cli.main", "exec"]):
        rec = Recorder(create_error=create_error)
        try:
            full = [a.replace("@ENVFILE@", os.path.join(tmp, "env.list")) for a in args]
            r = subprocess.run([*argv, *full], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                               env=dict(env, DOCKER_HOST=rec.host), cwd=tmp)
        finally:
            rec.close()
        out.append((r, rec))
    return out


CASES = [
    ["web", "sh", "-c", "echo"],
    ["-u", "app:grp", "-w", "/srv", "-e", "A=1", "-e", "PASSED", "--env-file", "@ENVFILE@", "--privileged", "web",
     "ls", "-l"],
    ["-i", "--detach-keys", "ctrl-x", "web", "cat"],
    ["-d", "web", "sleep", "9"],
    ["-t", "web", "ls"],
    ["-it", "web", "sh"],
]


@pytest.mark.parametrize("args", CASES, ids=["plain", "options", "interactive", "detached", "tty", "it-no-terminal"])
def test_same_requests_output_and_status(env: dict[str, str], tmp_path: Any, args: list[str]) -> None:
    (docker_run, docker_rec), (sampan_run, sampan_rec) = run_both(env, str(tmp_path), *args)
    assert sampan_rec.bodies("POST", "/containers/web/exec") == docker_rec.bodies("POST", "/containers/web/exec")
    assert sampan_rec.bodies("POST", f"/exec/{EID}/start") == docker_rec.bodies("POST", f"/exec/{EID}/start")
    assert (sampan_run.returncode, sampan_run.stdout, sampan_run.stderr) == (
        docker_run.returncode, docker_run.stdout, docker_run.stderr)


def test_refused_create(env: dict[str, str], tmp_path: Any) -> None:
    message = f"Container {'c' * 64} is not running"
    (docker_run, _), (sampan_run, _) = run_both(env, str(tmp_path), "web", "true", create_error=message)
    assert docker_run.returncode == sampan_run.returncode == 1
    assert docker_run.stderr == sampan_run.stderr == f"Error response from daemon: {message}\n"
