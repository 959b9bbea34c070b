"""The README's quick start job (`scripts/quickstart.sh` after its install step) works as it says."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.registry import free_port

pytestmark = pytest.mark.root


def test_quickstart_pulls_lists_runs_and_execs() -> None:
    r = subprocess.run([sys.executable, "-m", "tests.support.quickstart", "--port", str(free_port())],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    for step in ("$ sampan pull", "$ sampan images", "$ sampan run --rm", "$ sampan exec quick", "$ sampan rm -f"):
        assert step in out, out
    assert "Hello from sampan!" in out and "Hello from exec!" in out, out
    assert "sampan/hello" in out  # the images table lists it
