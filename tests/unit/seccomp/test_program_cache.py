"""Compiled seccomp programs kept under --root: reused only for the very same profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sampan.runtime import process
from sampan.runtime.seccomp_cache import CACHE_DIR, program_for

PROFILE = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
           "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}


def _no_compiling(profile: dict) -> tuple[bytes, int]:
    raise AssertionError("compiled again")


def test_compiled_once_then_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = program_for(PROFILE, str(tmp_path))
    assert first == process.compile_seccomp(PROFILE)
    assert len(os.listdir(tmp_path / CACHE_DIR)) == 1
    monkeypatch.setattr(process, "compile_seccomp", _no_compiling)
    assert program_for(dict(PROFILE), str(tmp_path)) == first


def test_another_profile_is_compiled(tmp_path: Path) -> None:
    a = program_for(PROFILE, str(tmp_path))
    b = program_for({**PROFILE, "defaultAction": "SCMP_ACT_KILL"}, str(tmp_path))
    assert a != b and len(os.listdir(tmp_path / CACHE_DIR)) == 2
    assert program_for(None, str(tmp_path)) is None


def test_a_damaged_or_foreign_file_is_not_trusted(tmp_path: Path) -> None:
    good = program_for(PROFILE, str(tmp_path))
    (kept,) = (tmp_path / CACHE_DIR).iterdir()
    data = kept.read_bytes()
    kept.write_bytes(data[:-3])  # torn
    assert program_for(PROFILE, str(tmp_path)) == good
    kept.write_bytes(data.replace(b"exit_group", b"exit_gruop", 1))  # same name, another profile's text
    assert program_for(PROFILE, str(tmp_path)) == good


def test_an_unwritable_root_only_means_compiling(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert program_for(PROFILE, str(blocked)) == process.compile_seccomp(PROFILE)
