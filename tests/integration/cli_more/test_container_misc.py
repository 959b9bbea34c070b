"""diff, export, pause/unpause, rename, top and port against a real sampand, next to the docker CLI."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile

import pytest

from tests.integration.cli_more.helpers import remove, run_detached, sampan, sampan_bytes
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root


def test_diff_after_touching_files(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = sampan(daemon, "run", "--name", "differ", busybox_ref, "sh", "-c",
               "mkdir /newdir && echo x > /newdir/file && echo y > /bin/added && rm /bin/true")
    try:
        assert r.returncode == 0, r
        out = sampan(daemon, "diff", "differ")
        assert out.returncode == 0, out
        lines = out.stdout.splitlines()
        assert "C /bin" in lines and "A /bin/added" in lines and "D /bin/true" in lines
        assert "A /newdir" in lines and "A /newdir/file" in lines
        assert out.stdout == daemon.docker("diff", "differ").stdout
        missing = sampan(daemon, "diff", "no-such")
        assert (missing.returncode, missing.stderr) == (1, "Error response from daemon: No such container: no-such\n")
    finally:
        remove(daemon, "differ")


def test_export_to_file_and_stdout(daemon: DaemonProcess, busybox_ref: str, tmp_path: object) -> None:
    r = sampan(daemon, "create", "--name", "exported", busybox_ref)
    assert r.returncode == 0, r
    try:
        out = f"{tmp_path}/rootfs.tar"
        r = sampan(daemon, "export", "-o", out, "exported")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r
        with tarfile.open(out) as tf:
            names = set(tf.getnames())
        assert {"bin/sh", "bin/busybox", "etc/hostname"} <= {n.lstrip("./") for n in names}
        raw = sampan_bytes(daemon, "export", "exported")
        assert raw.returncode == 0
        with tarfile.open(fileobj=io.BytesIO(raw.stdout)) as tf:
            assert "bin/sh" in {n.lstrip("./") for n in tf.getnames()}
        import pty
        import subprocess
        import sys

        primary, secondary = pty.openpty()
        try:
            env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
            tty = subprocess.run([sys.executable, "-m", "sampan.cli.main", "export", "exported"], env=env,
                                 stdout=secondary, stderr=subprocess.PIPE, timeout=60)
        finally:
            os.close(primary)
            os.close(secondary)
        assert (tty.returncode, tty.stderr) == (
            1, b"cowardly refusing to save to a terminal. Use the -o flag or redirect\n")
        bad = sampan(daemon, "export", "-o", "/no/such/dir/x.tar", "exported")
        assert bad.returncode == 1
        assert bad.stderr == ('failed to export container: invalid output path: directory "/no/such/dir" '
                              "does not exist\n")
    finally:
        remove(daemon, "exported")


def test_pause_unpause_state_and_errors(daemon: DaemonProcess, busybox_ref: str) -> None:
    run_detached(daemon, busybox_ref, "pausable")
    try:
        r = sampan(daemon, "pause", "pausable", "ghost")
        assert (r.returncode, r.stdout) == (1, "pausable\n"), r
        assert r.stderr == "Error response from daemon: No such container: ghost\n"
        state = json.loads(sampan(daemon, "inspect", "pausable").stdout)[0]["State"]
        assert (state["Status"], state["Paused"]) == ("paused", True)
        r = sampan(daemon, "unpause", "pausable")
        assert (r.returncode, r.stdout, r.stderr) == (0, "pausable\n", "")
        state = json.loads(sampan(daemon, "inspect", "pausable").stdout)[0]["State"]
        assert (state["Status"], state["Paused"]) == ("running", False)
        again = sampan(daemon, "unpause", "pausable")
        assert again.returncode == 1 and again.stderr.startswith("Error response from daemon: "), again
        assert again.stderr == daemon.docker("unpause", "pausable").stderr
    finally:
        remove(daemon, "pausable")


def test_rename(daemon: DaemonProcess, busybox_ref: str) -> None:
    assert sampan(daemon, "create", "--name", "old-name", busybox_ref).returncode == 0
    try:
        r = sampan(daemon, "rename", "old-name", "new-name")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        assert json.loads(sampan(daemon, "inspect", "new-name").stdout)[0]["Name"] == "/new-name"
        r = sampan(daemon, "rename", "old-name", "other")
        assert r.returncode == 1
        assert r.stderr == ("Error response from daemon: No such container: old-name\n"
                            "Error: failed to rename container named old-name\n")
        assert r.stderr == daemon.docker("rename", "old-name", "other").stderr
        r = sampan(daemon, "rename", "new-name", " ")
        assert (r.returncode, r.stderr) == (1, "Error: Neither old nor new names may be empty\n")
    finally:
        remove(daemon, "new-name", "old-name")


def test_top_table(daemon: DaemonProcess, busybox_ref: str) -> None:
    run_detached(daemon, busybox_ref, "topped")
    try:
        r = sampan(daemon, "top", "topped")
        assert r.returncode == 0, r
        lines = r.stdout.splitlines()
        assert re.match(r"UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD$", lines[0]), lines
        assert any("while true" in line for line in lines[1:])
        theirs = daemon.docker("top", "topped").stdout.splitlines()
        assert lines[0] == theirs[0]
        # the sh row, up to its CPU column (C and the sleeps change from call to call)
        assert lines[1][:60] == theirs[1][:60] and lines[1][80:] == theirs[1][80:]
        r = sampan(daemon, "top", "topped", "-o", "pid,comm")
        assert r.returncode == 0 and r.stdout.splitlines()[0].split() == ["PID", "COMMAND"], r
        assert r.stdout.splitlines()[:2] == daemon.docker("top", "topped", "-o", "pid,comm").stdout.splitlines()[:2]
    finally:
        remove(daemon, "topped")
    stopped = sampan(daemon, "create", "--name", "not-running", busybox_ref)
    assert stopped.returncode == 0
    try:
        r = sampan(daemon, "top", "not-running")
        assert r.returncode == 1 and "is not running" in r.stderr, r
    finally:
        remove(daemon, "not-running")


def test_port_without_published_ports(daemon: DaemonProcess, busybox_ref: str) -> None:
    assert sampan(daemon, "create", "--name", "portless", busybox_ref).returncode == 0
    try:
        r = sampan(daemon, "port", "portless")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        r = sampan(daemon, "port", "portless", "80/tcp")
        assert (r.returncode, r.stderr) == (1, "Error: No public port '80/tcp' published for portless\n")
        assert r.stderr == daemon.docker("port", "portless", "80/tcp").stderr
        r = sampan(daemon, "port", "portless", "http")
        assert r.returncode == 1 and r.stderr.startswith("Error: invalid port (http): ")
    finally:
        remove(daemon, "portless")
