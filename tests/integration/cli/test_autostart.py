"""`sampan` starts a daemon for root when none answers on the default socket."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pytest

from sampan.cli.autostart import ensure_daemon

pytestmark = pytest.mark.root


def test_starts_daemon_on_default_socket_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAMPAN_NO_AUTOSTART", raising=False)
    sock = tmp_path / "run" / "sampand.sock"
    host = f"unix://{sock}"
    err = io.StringIO()
    # another address than the default: left alone
    assert ensure_daemon(f"unix://{tmp_path}/other.sock", err, default_host=host) is None
    args = ["--data-root", str(tmp_path / "data"), "--exec-root", str(tmp_path / "exec"),
            "--config-file", str(tmp_path / "daemon.json")]
    (tmp_path / "daemon.json").write_text("{}")
    pid = ensure_daemon(host, err, default_host=host, daemon_args=args)
    assert pid is not None, err.getvalue()
    try:
        assert "started sampand" in err.getvalue()
        assert sock.is_socket()
        # a second call finds it running and starts nothing
        assert ensure_daemon(host, io.StringIO(), default_host=host, daemon_args=args) is None
    finally:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                pass
            time.sleep(0.05)
    assert not sock.exists()


def test_opt_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMPAN_NO_AUTOSTART", "1")
    host = f"unix://{tmp_path}/sampand.sock"
    assert ensure_daemon(host, io.StringIO(), default_host=host) is None
