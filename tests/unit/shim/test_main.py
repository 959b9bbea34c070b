"""sampan-shim's entry point refuses bad command lines before it forks anything."""

from __future__ import annotations

import os

import pytest

from sampan.shim.main import main, shim_answers


@pytest.mark.parametrize("argv", [[], ["--bogus"], ["--id", "x"], ["--zygote"], ["--zygote", "a", "b"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage" in capsys.readouterr().err


def test_help_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 2
    assert "--state-dir" in capsys.readouterr().err


def test_nothing_answers_on_a_missing_or_dead_socket(tmp_path: os.PathLike[str]) -> None:
    import socket

    assert not shim_answers(os.path.join(tmp_path, "none.sock"))
    path = os.path.join(tmp_path, "dead.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    sock.close()  # bound, never listening: connect is refused
    assert not shim_answers(path)
