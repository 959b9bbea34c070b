"""The shim runs sampand's own runtime launcher in a fork instead of a new interpreter."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from sampan.daemon.containers.settings import fast_runtime_launcher
from sampan.shim.runtime import run_capture, runs_in_process


def test_launcher_written_by_the_daemon_runs_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPAN_SHIM_EXEC_RUNTIME", raising=False)
    launcher = fast_runtime_launcher(str(tmp_path))
    assert runs_in_process(launcher)
    monkeypatch.setenv("SAMPAN_SHIM_EXEC_RUNTIME", "1")
    assert not runs_in_process(launcher)


def test_other_programs_are_spawned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPAN_SHIM_EXEC_RUNTIME", raising=False)
    other = tmp_path / "other"
    other.write_text("#!/bin/sh\nexit 0\n")
    assert not runs_in_process(str(other))
    foreign = tmp_path / "foreign"
    foreign.write_text("#!/usr/bin/env python9 -SEs\nfrom sampan.runtime.cli import main\nmain()\n")
    assert not runs_in_process(str(foreign))
    assert not runs_in_process(str(tmp_path / "missing"))


def test_in_process_runtime_behaves_like_the_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPAN_SHIM_EXEC_RUNTIME", raising=False)
    launcher = fast_runtime_launcher(str(tmp_path))
    forked = run_capture([launcher, "--version"], 30)
    monkeypatch.setenv("SAMPAN_SHIM_EXEC_RUNTIME", "1")
    executed = run_capture([launcher, "--version"], 30)
    assert forked.code == executed.code == 0
    assert forked.stdout == executed.stdout and b"sampan-runtime" in forked.stdout
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.delenv("SAMPAN_SHIM_EXEC_RUNTIME")
    missing = run_capture([launcher, "--root", str(root), "state", "nope"], 30)
    assert missing.code == 1 and b'nope' in missing.stderr and b'does not exist' in missing.stderr
    assert os.path.realpath(sys.executable)  # the launcher names this interpreter
