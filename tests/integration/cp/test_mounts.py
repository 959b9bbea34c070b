"""Copies into and out of a container's mounts: a running container's tmpfs and bind mount (they
live in its mount namespace), a stopped container's bind mount, and read-only refusals."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from tests.support.daemon import DOCKER_CLI, DaemonProcess

pytestmark = [pytest.mark.root, pytest.mark.skipif(not os.path.exists(DOCKER_CLI), reason="no docker CLI")]


def cli(daemon: DaemonProcess, *args: str) -> str:
    r = daemon.docker(*args, timeout=60)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def one_file_tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def put(daemon: DaemonProcess, cid: str, path: str, body: bytes) -> tuple[int, bytes]:
    status, _, data = daemon.request("PUT", f"/containers/{cid}/archive?path={path}", body,
                                     {"Content-Type": "application/x-tar"})
    return status, data


def test_running_container_tmpfs_and_bind(daemon: DaemonProcess, cp_image: str, work_dir: str) -> None:
    bind = os.path.join(work_dir, "bind")
    os.mkdir(bind)
    with open(os.path.join(bind, "from-host"), "w") as f:
        f.write("host file\n")
    cid = cli(daemon, "run", "-d", "--tmpfs", "/scratch", "-v", f"{bind}:/data", cp_image, "sh", "-c",
              "echo made-inside > /scratch/inside && exec sleep 1000").strip()
    try:
        src = os.path.join(work_dir, "f")
        with open(src, "w") as f:
            f.write("copied in\n")
        cli(daemon, "cp", src, f"{cid}:/scratch/f")
        cli(daemon, "cp", src, f"{cid}:/data/f")
        with open(os.path.join(bind, "f")) as f:  # the bind's host side got it
            assert f.read() == "copied in\n"
        assert cli(daemon, "exec", cid, "cat", "/scratch/f") == "copied in\n"  # the container sees the tmpfs file
        rootfs = os.path.join(daemon.exec_root, "containers", cid, "rootfs")
        assert not os.path.exists(os.path.join(rootfs, "scratch", "f"))  # not written under the tmpfs
        out = os.path.join(work_dir, "out")
        os.mkdir(out)
        cli(daemon, "cp", f"{cid}:/scratch/inside", out)
        cli(daemon, "cp", f"{cid}:/data/from-host", out)
        with open(os.path.join(out, "inside")) as f:
            assert f.read() == "made-inside\n"
        with open(os.path.join(out, "from-host")) as f:
            assert f.read() == "host file\n"
    finally:
        daemon.docker("rm", "-f", cid)


def test_stopped_container_bind_and_network_files(daemon: DaemonProcess, cp_image: str, work_dir: str) -> None:
    bind = os.path.join(work_dir, "bind")
    os.mkdir(bind)
    cid = cli(daemon, "create", "-v", f"{bind}:/data", "--hostname", "cp-host", cp_image, "true").strip()
    try:
        status, _ = put(daemon, cid, "/data", one_file_tar("stopped", b"into a stopped one\n"))
        assert status == 200
        with open(os.path.join(bind, "stopped")) as f:
            assert f.read() == "into a stopped one\n"
        out = os.path.join(work_dir, "hostname")
        cli(daemon, "cp", f"{cid}:/etc/hostname", out)
        with open(out) as f:
            assert f.read() == "cp-host\n"
    finally:
        daemon.docker("rm", "-f", cid)


@pytest.mark.parametrize("state", ["running", "created"])
def test_read_only_rootfs_and_volumes(daemon: DaemonProcess, cp_image: str, work_dir: str, state: str) -> None:
    rw, ro = os.path.join(work_dir, "rw"), os.path.join(work_dir, "ro")
    os.mkdir(rw)
    os.mkdir(ro)
    args = ["--read-only", "-v", f"{rw}:/rw", "-v", f"{ro}:/ro:ro", "--tmpfs", "/scratch", cp_image]
    cid = (cli(daemon, "run", "-d", *args, "sleep", "1000") if state == "running" else
           cli(daemon, "create", *args, "true")).strip()
    try:
        body = one_file_tar("f", b"x")
        status, data = put(daemon, cid, "/tmp", body)
        assert (status, b"container rootfs is marked read-only" in data) == (403, True), data
        status, data = put(daemon, cid, "/ro", body)
        assert (status, b"mounted volume is marked read-only" in data) == (403, True), data
        assert put(daemon, cid, "/rw", body)[0] == 200
        assert os.path.exists(os.path.join(rw, "f")) and not os.listdir(ro)
        if state == "running":  # a tmpfs mount is writable (a created one has no /scratch yet)
            assert put(daemon, cid, "/scratch", body)[0] == 200
        r = daemon.docker("cp", os.path.join(work_dir, "rw", "f"), f"{cid}:/etc/")
        assert r.returncode != 0 and "container rootfs is marked read-only" in r.stderr
    finally:
        daemon.docker("rm", "-f", cid)


def test_put_errors(daemon: DaemonProcess, cp_image: str) -> None:
    cid = cli(daemon, "run", "-d", cp_image, "sh", "-c", "mkdir /d && echo x > /file && exec sleep 1000").strip()
    try:
        body = one_file_tar("f", b"x")
        status, data = put(daemon, cid, "/no/such", body)
        assert status == 404 and f"Could not find the file /no/such in container {cid}".encode() in data
        status, data = put(daemon, cid, "/etc/hostname", body)
        assert status == 400 and b"extraction point is not a directory" in data
        # noOverwriteDirNonDir: a file over a directory (and the reverse) is an error
        status, data = daemon.request("PUT", f"/containers/{cid}/archive?path=/&noOverwriteDirNonDir=1",
                                      one_file_tar("d", b"x"), {"Content-Type": "application/x-tar"})[::2]
        assert status == 400 and b"cannot overwrite directory" in data
        status, _ = put(daemon, cid, "/", one_file_tar("d", b"replaced\n"))  # without it, Docker replaces
        assert status == 200
        assert cli(daemon, "exec", cid, "cat", "/d") == "replaced\n"
        # bodies compressed with gzip, bzip2 or xz are accepted
        import bz2
        import gzip
        import lzma

        for name, pack in (("gz", gzip.compress), ("bz", bz2.compress), ("xz", lzma.compress)):
            assert put(daemon, cid, "/tmp", pack(one_file_tar(name, name.encode())))[0] == 200
        assert cli(daemon, "exec", cid, "cat", "/tmp/gz", "/tmp/bz", "/tmp/xz") == "gzbzxz"
    finally:
        daemon.docker("rm", "-f", cid)


def test_paused_container(daemon: DaemonProcess, cp_image: str, work_dir: str) -> None:
    """Copies go on while the container's processes are frozen (the helper is not in its cgroup)."""
    cid = cli(daemon, "run", "-d", "--tmpfs", "/scratch", cp_image, "sleep", "1000").strip()
    try:
        cli(daemon, "pause", cid)
        src = os.path.join(work_dir, "f")
        with open(src, "w") as f:
            f.write("while paused\n")
        cli(daemon, "cp", src, f"{cid}:/scratch/f")
        cli(daemon, "cp", f"{cid}:/scratch/f", os.path.join(work_dir, "back"))
        with open(os.path.join(work_dir, "back")) as f:
            assert f.read() == "while paused\n"
        cli(daemon, "unpause", cid)
    finally:
        daemon.docker("rm", "-f", cid)
