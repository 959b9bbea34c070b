"""A container writing a few hundred MB of output: the shim's json-file log rotates at
max-size, keeps max-file files, and `logs --tail` still answers from the newest one."""

from __future__ import annotations

import os
import time

from tests.support.daemon import DaemonProcess

LINE = "x" * 99  # 100 bytes with the newline
TOTAL = 300_000_000


def test_several_hundred_mb_log_rotates(daemon: DaemonProcess, busybox_ref: str) -> None:
    script = f"/bin/busybox yes {LINE} | /bin/busybox head -c {TOTAL}; echo last-line"
    start = time.monotonic()
    run = daemon.docker("run", "-d", "--name", "biglog", "--log-opt", "max-size=50m", "--log-opt",
                        "max-file=3", busybox_ref, "sh", "-c", script)
    assert run.returncode == 0, run.stderr
    waited = daemon.docker("wait", "biglog", timeout=300)
    elapsed = time.monotonic() - start
    try:
        assert waited.stdout.strip() == "0", waited.stderr
        log_path = daemon.docker("inspect", "-f", "{{.LogPath}}", "biglog").stdout.strip()
        sizes = [os.path.getsize(p) for p in (log_path, log_path + ".1", log_path + ".2")]
        assert not os.path.exists(log_path + ".3")
        # each file stops at max-size (a json line may cross it once), the rest rotated away
        assert all(s <= 50 * 1024 * 1024 + 4096 for s in sizes), sizes
        assert sum(sizes[1:]) > 90 * 1024 * 1024
        tail = daemon.docker("logs", "--tail", "2", "biglog").stdout
        assert tail == f"{LINE}\nlast-line\n"
        print(f"{TOTAL / 1e6:.0f} MB of output logged in {elapsed:.1f} s")
    finally:
        daemon.docker("rm", "-f", "biglog")
