"""`sampan cp` both ways against a real sampand: files, directories, `/.`, tars on stdin/stdout,
docker's errors; the docker CLI on the same daemon is the reference where it is practical."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator

import pytest

from tests.integration.cli_more.helpers import remove, sampan, sampan_bytes
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
SETUP = ("mkdir -p /data/sub && echo hello > /data/a.txt && echo deep > /data/sub/b.txt && "
         "ln -s a.txt /data/link && ln -s /data /datalink")


@pytest.fixture(scope="module")
def box(daemon: DaemonProcess, busybox_ref: str) -> Iterator[str]:
    r = sampan(daemon, "run", "--name", "cpbox", busybox_ref, "sh", "-c", SETUP)
    assert r.returncode == 0, r
    yield "cpbox"
    remove(daemon, "cpbox")


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def tree(root: str) -> dict[str, str]:
    """relative path -> file content, `->target` for symlinks, `/` for directories."""
    out = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = "->" + os.readlink(path)
            elif os.path.isdir(path):
                out[rel] = "/"
            else:
                with open(path) as f:
                    out[rel] = f.read()
    return out


def test_file_from_container(daemon: DaemonProcess, box: str, tmp_path: object) -> None:
    d = str(tmp_path)
    r = sampan(daemon, "cp", f"{box}:/data/a.txt", f"{d}/copy.txt")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r
    assert read(f"{d}/copy.txt") == "hello\n"
    r = sampan(daemon, "cp", f"{box}:/data/a.txt", d)
    assert r.returncode == 0 and read(f"{d}/a.txt") == "hello\n"
    r = sampan(daemon, "cp", f"{box}:/data/link", f"{d}/asis")
    assert r.returncode == 0 and os.readlink(f"{d}/asis") == "a.txt"
    r = sampan(daemon, "cp", "-L", f"{box}:/data/link", f"{d}/followed")
    assert r.returncode == 0 and read(f"{d}/followed") == "hello\n", r
    r = sampan(daemon, "cp", "-q=false", f"{box}:/data/a.txt", f"{d}/loud.txt")
    assert (r.returncode, r.stderr) == (0, f"Successfully copied 2.05kB to {d}/loud.txt\n"), r
    theirs = daemon.docker("cp", "-q=false", f"{box}:/data/a.txt", f"{d}/docker-loud.txt")
    assert theirs.stderr == r.stderr.replace("loud.txt", "docker-loud.txt")


def test_directory_from_container(daemon: DaemonProcess, box: str, tmp_path: object) -> None:
    d = str(tmp_path)
    expected = {"a.txt": "hello\n", "link": "->a.txt", "sub": "/", "sub/b.txt": "deep\n"}
    assert sampan(daemon, "cp", f"{box}:/data", f"{d}/new").returncode == 0
    assert tree(f"{d}/new") == expected
    os.mkdir(f"{d}/existing")
    assert sampan(daemon, "cp", f"{box}:/data", f"{d}/existing").returncode == 0
    assert tree(f"{d}/existing") == {"data": "/", **{f"data/{k}": v for k, v in expected.items()}}
    os.mkdir(f"{d}/contents")
    assert sampan(daemon, "cp", f"{box}:/data/.", f"{d}/contents").returncode == 0
    assert tree(f"{d}/contents") == expected
    r = sampan(daemon, "cp", f"{box}:/data/.", f"{d}/fresh")
    assert r.returncode == 0 and tree(f"{d}/fresh") == expected, (r, tree(d))
    r = sampan(daemon, "cp", "-L", f"{box}:/datalink", f"{d}/via-link")
    assert r.returncode == 0 and tree(f"{d}/via-link") == expected, r


def test_docker_cli_agrees(daemon: DaemonProcess, box: str, tmp_path: object) -> None:
    d = str(tmp_path)
    for tool in ("sampan", "docker"):
        os.mkdir(f"{d}/{tool}")
        args = ("cp", f"{box}:/data", f"{d}/{tool}/out")
        r = sampan(daemon, *args) if tool == "sampan" else daemon.docker(*args)
        assert r.returncode == 0, r
    assert tree(f"{d}/sampan") == tree(f"{d}/docker")
    for args in (("cp", f"{box}:/nope", d), ("cp", f"{d}/none", f"{box}:/tmp"),
                 ("cp", f"{box}:/data/a.txt", f"{d}/no/such/dir/x"), ("cp", "a", "b"),
                 ("cp", f"{box}:/a", "other:/b")):
        ours, theirs = sampan(daemon, *args), daemon.docker(*args)
        assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr), args


def test_tar_to_stdout(daemon: DaemonProcess, box: str) -> None:
    r = sampan_bytes(daemon, "cp", f"{box}:/data", "-")
    assert r.returncode == 0, r
    with tarfile.open(fileobj=io.BytesIO(r.stdout)) as tf:
        names = set(tf.getnames())
        assert {"data", "data/a.txt", "data/sub/b.txt", "data/link"} <= names
        member = tf.extractfile("data/a.txt")
        assert member is not None and member.read() == b"hello\n"


def test_copy_into_container(daemon: DaemonProcess, busybox_ref: str, tmp_path: object) -> None:
    d = str(tmp_path)
    os.makedirs(f"{d}/src/inner")
    with open(f"{d}/src/one.txt", "w") as f:
        f.write("one\n")
    with open(f"{d}/src/inner/two.txt", "w") as f:
        f.write("two\n")
    r = sampan(daemon, "create", "--name", "cpin", busybox_ref, "sh", "-c",
               "cat /file.txt /newdir/one.txt /newdir/inner/two.txt /tmp/src/one.txt /etc/one.txt /piped/p.txt")
    assert r.returncode == 0, r
    try:
        assert sampan(daemon, "cp", f"{d}/src/one.txt", "cpin:/file.txt").returncode == 0
        assert sampan(daemon, "cp", f"{d}/src", "cpin:/newdir").returncode == 0
        assert sampan(daemon, "cp", f"{d}/src", "cpin:/tmp").returncode == 0
        assert sampan(daemon, "cp", f"{d}/src/.", "cpin:/etc").returncode == 0
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            data = b"piped\n"
            info = tarfile.TarInfo("piped/p.txt")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        piped = sampan_bytes(daemon, "cp", "-", "cpin:/", stdin=buf.getvalue())
        assert piped.returncode == 0, piped
        r = sampan(daemon, "cp", "-q=false", f"{d}/src/one.txt", "cpin:/file.txt")
        assert (r.returncode, r.stderr) == (0, "Successfully copied 2.05kB to cpin:/file.txt\n"), r
        out = sampan(daemon, "start", "-a", "cpin")
        assert out.stdout == "one\none\ntwo\none\none\npiped\n", out
        r = sampan(daemon, "cp", f"{d}/src/one.txt", "cpin:/nonexistent/")
        assert (r.returncode, r.stderr) == (1, "no such directory\n"), r
        r = sampan(daemon, "cp", f"{d}/src", "cpin:/file.txt")
        assert (r.returncode, r.stderr) == (1, "cannot copy directory\n"), r
        r = sampan(daemon, "cp", "-", "cpin:/file.txt", stdin="x")
        assert (r.returncode, r.stderr) == (1, 'destination "cpin:/file.txt" must be a directory\n'), r
    finally:
        remove(daemon, "cpin")
