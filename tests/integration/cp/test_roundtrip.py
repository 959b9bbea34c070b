"""`docker cp` both ways with special files (symlinks, hard links, a fifo, a device node),
through the unmodified docker CLI and docker-py: modes, owners and mtimes survive."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import subprocess
import tarfile
from collections.abc import Iterator

import docker
import pytest

from tests.support.daemon import DOCKER_CLI, DaemonProcess

pytestmark = [pytest.mark.root, pytest.mark.skipif(not os.path.exists(DOCKER_CLI), reason="no docker CLI")]

MTIME = 1_600_000_000


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getmembers()


def cli(daemon: DaemonProcess, *args: str) -> str:
    r = daemon.docker(*args, timeout=60)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


@pytest.fixture
def running(daemon: DaemonProcess, cp_image: str) -> Iterator[str]:
    cid = cli(daemon, "run", "-d", cp_image, "sleep", "1000").strip()
    try:
        yield cid
    finally:
        daemon.docker("rm", "-f", cid)


def make_tree(root: str) -> None:
    """tree/{file (0640, 1234:5678), sub/, sub/hard (link to file), rel -> file, abs -> /etc, fifo, null}"""
    tree = os.path.join(root, "tree")
    os.makedirs(os.path.join(tree, "sub"))
    path = os.path.join(tree, "file")
    with open(path, "w") as f:
        f.write("payload\n")
    os.chmod(path, 0o640)
    os.chown(path, 1234, 5678)
    os.link(path, os.path.join(tree, "sub", "hard"))
    os.symlink("file", os.path.join(tree, "rel"))
    os.symlink("/etc", os.path.join(tree, "abs"))
    os.mkfifo(os.path.join(tree, "fifo"), 0o600)
    os.mknod(os.path.join(tree, "null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.chmod(os.path.join(tree, "sub"), 0o750)
    for name in ("file", "fifo", "null", "sub", ""):
        os.utime(os.path.join(tree, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(os.path.join(tree, "rel"), (MTIME, MTIME), follow_symlinks=False)


def check_tree(tree: str) -> None:
    st = os.lstat(os.path.join(tree, "file"))
    assert stat.S_IMODE(st.st_mode) == 0o640  # owners: the CLI extracts without chown (NoLchown)
    assert int(st.st_mtime) == MTIME
    with open(os.path.join(tree, "file")) as f:
        assert f.read() == "payload\n"
    hard = os.lstat(os.path.join(tree, "sub", "hard"))
    assert hard.st_ino == st.st_ino and st.st_nlink == 2
    assert os.readlink(os.path.join(tree, "rel")) == "file"
    assert os.readlink(os.path.join(tree, "abs")) == "/etc"
    assert int(os.lstat(os.path.join(tree, "rel")).st_mtime) == MTIME
    assert stat.S_ISFIFO(os.lstat(os.path.join(tree, "fifo")).st_mode)
    null = os.lstat(os.path.join(tree, "null"))
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3)
    sub = os.lstat(os.path.join(tree, "sub"))
    assert stat.S_IMODE(sub.st_mode) == 0o750 and int(sub.st_mtime) == MTIME
    assert int(os.lstat(tree).st_mtime) == MTIME


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_docker_cli_cp_tree_both_ways(daemon: DaemonProcess, cp_image: str, work_dir: str, state: str) -> None:
    make_tree(work_dir)
    command = ["sleep", "1000"] if state == "running" else ["true"]
    cid = cli(daemon, "run", "-d", cp_image, *command).strip()
    try:
        if state == "stopped":
            assert cli(daemon, "wait", cid).strip() == "0"
        cli(daemon, "cp", os.path.join(work_dir, "tree"), f"{cid}:/copied")
        status, _, body = daemon.request("GET", f"/containers/{cid}/archive?path=/copied/file")
        assert status == 200
        (member,) = members(body)
        assert (member.name, member.uid, member.gid, member.mode) == ("file", 1234, 5678, 0o640)
        out = os.path.join(work_dir, "out")
        cli(daemon, "cp", f"{cid}:/copied", out)
        check_tree(out)
        # a path ending in "/." copies the contents; a symlink is copied as the link
        cli(daemon, "cp", f"{cid}:/copied/.", os.path.join(work_dir, "dot"))
        assert sorted(os.listdir(os.path.join(work_dir, "dot"))) == sorted(os.listdir(out))
        cli(daemon, "cp", f"{cid}:/copied/abs", os.path.join(work_dir, "link"))
        assert os.readlink(os.path.join(work_dir, "link")) == "/etc"
        cli(daemon, "cp", "-L", f"{cid}:/copied/rel", os.path.join(work_dir, "followed"))  # via linkTarget
        with open(os.path.join(work_dir, "followed")) as f:
            assert f.read() == "payload\n"
        # a tar on stdin, and a tar to stdout
        r = subprocess.run([DOCKER_CLI, "cp", "-", f"{cid}:/tmp"], env=daemon.docker_env(), capture_output=True,
                           input=_tar([(_info("stdin-file", size=3), b"in\n")]), timeout=60)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([DOCKER_CLI, "cp", f"{cid}:/tmp/stdin-file", "-"], env=daemon.docker_env(),
                           capture_output=True, timeout=60)
        assert r.returncode == 0 and [m.name for m in members(r.stdout)] == ["stdin-file"], r.stderr
    finally:
        daemon.docker("rm", "-f", cid)


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _info(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, size: int = 0, **kw: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, MTIME
    info.uid, info.gid = 42, 43
    for key, value in kw.items():
        setattr(info, key, value)
    return info


def test_docker_py_put_and_get_archive(daemon: DaemonProcess, running: str, cp_image: str) -> None:
    client = docker.DockerClient(base_url=daemon.docker_host, version="1.44")
    container = client.containers.get(running)
    data = b"hello\n"
    tar = _tar([
        (_info("d", tarfile.DIRTYPE, 0o710), None),
        (_info("d/f", size=len(data), mode=0o604), data),
        (_info("d/h", tarfile.LNKTYPE, linkname="d/f"), None),
        (_info("d/s", tarfile.SYMTYPE, mode=0o777, linkname="f"), None),
        (_info("d/p", tarfile.FIFOTYPE), None),
        (_info("d/b", tarfile.BLKTYPE, mode=0o600, devmajor=7, devminor=99), None),
    ])
    assert container.put_archive("/tmp", tar)
    stream, stat_info = container.get_archive("/tmp/d")
    assert stat_info["name"] == "d" and stat_info["mode"] == (1 << 31) | 0o710
    got = {m.name: m for m in members(b"".join(stream))}
    assert set(got) == {"d", "d/f", "d/h", "d/s", "d/p", "d/b"}
    assert got["d/f"].mode == 0o604 and (got["d/f"].uid, got["d/f"].gid) == (42, 43) and got["d/f"].mtime == MTIME
    assert got["d/h"].islnk() and got["d/h"].linkname == "d/f"
    assert got["d/s"].issym() and got["d/s"].linkname == "f"
    assert got["d/p"].isfifo() and got["d"].mode == 0o710 and got["d"].mtime == MTIME
    assert got["d/b"].isblk() and (got["d/b"].devmajor, got["d/b"].devminor) == (7, 99)
    # copyUIDGID maps to the container's user; with no User set the tar's ids stay (as Docker)
    api = docker.APIClient(base_url=daemon.docker_host, version="1.44")
    one = _tar([(_info("owned", size=1), b"x")])
    user_cid = cli(daemon, "run", "-d", "--user", "7:8", cp_image, "sleep", "1000").strip()
    try:
        for cid, owner in ((running, (42, 43)), (user_cid, (7, 8))):
            resp = api._put(api._url("/containers/{0}/archive", cid),  # docker-py has no copyUIDGID flag
                            params={"path": "/tmp", "copyUIDGID": "1"}, data=one)
            assert resp.status_code == 200, resp.text
            _, _, body = daemon.request("GET", f"/containers/{cid}/archive?path=/tmp/owned")
            (member,) = members(body)
            assert (member.uid, member.gid) == owner
    finally:
        daemon.docker("rm", "-f", user_cid)


def test_head_stat_header(daemon: DaemonProcess, running: str) -> None:
    cli(daemon, "exec", running, "sh", "-c",
        "mkdir -p /s/d && printf abc > /s/d/f && ln -s d/f /s/l && ln -s /nope /s/broken")

    def head(path: str) -> dict[str, object]:
        status, headers, _ = daemon.request("HEAD", f"/containers/{running}/archive?path={path}")
        assert status == 200
        return json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))

    info = head("/s/d/f")
    assert (info["name"], info["size"], info["mode"], info["linkTarget"]) == ("f", 3, 0o644, "")
    assert str(info["mtime"]).endswith("Z")
    assert head("/s/d")["mode"] == (1 << 31) | 0o755
    link = head("/s/l")
    assert link["mode"] == (1 << 27) | 0o777 and link["linkTarget"] == "/s/d/f" and link["name"] == "l"
    assert head("/s/broken")["linkTarget"] == "/nope"
    assert head("/s/d/.")["name"] == "." and head("/s/d/")["name"] == "d" and head("/")["name"] == "/"
    status, _, _ = daemon.request("HEAD", f"/containers/{running}/archive?path=/no/such")
    assert status == 404
    status, _, body = daemon.request("GET", f"/containers/{running}/archive?path=/no/such")
    assert status == 404 and f"Could not find the file /no/such in container {running}" in body.decode()
