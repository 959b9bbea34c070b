"""Symlinks in a container never lead a copy out of it: not as a cp target, not as a source, not
in an uploaded tar, not while the container swaps a directory and a symlink during the copies.

Every symlink here points at /etc/../tmp/<unique>-host-marker (or climbs to it with ../), a
directory the test made on the host: a broken copy would touch only that, never the real /etc.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time
from collections.abc import Iterator

import docker
import pytest
import requests

from tests.support.daemon import DOCKER_CLI, DaemonProcess

pytestmark = [pytest.mark.root, pytest.mark.skipif(not os.path.exists(DOCKER_CLI), reason="no docker CLI")]


def cli(daemon: DaemonProcess, *args: str) -> str:
    r = daemon.docker(*args, timeout=60)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def tar_of(entries: list[tuple[str, bytes, str]]) -> bytes:
    """(name, type, data-or-linkname) entries as an uncompressed tar."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                data = value.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                info.linkname = value
                tf.addfile(info)
    return buf.getvalue()


def host_untouched(marker: str) -> None:
    assert sorted(os.listdir(marker)) == ["host-secret"], os.listdir(marker)
    with open(os.path.join(marker, "host-secret")) as f:
        assert f.read() == "host only\n"


@pytest.fixture
def escaper(daemon: DaemonProcess, cp_image: str, host_marker: str) -> Iterator[str]:
    """A running container whose /abs and /rel are symlinks at the host marker directory (absolute
    via /etc/.., relative via ../..), which also exists inside the container, holding 'inside'."""
    rel = "../../../../../../.." + host_marker
    script = (f"mkdir -p {host_marker} /deep/a/b && echo inside > {host_marker}/inside-file"
              f" && ln -s /etc/..{host_marker} /abs && ln -s {rel} /deep/a/b/rel && exec sleep 1000")
    cid = cli(daemon, "run", "-d", cp_image, "sh", "-c", script).strip()
    deadline = time.monotonic() + 10
    while daemon.request("HEAD", f"/containers/{cid}/archive?path=/deep/a/b/rel")[0] != 200:
        assert time.monotonic() < deadline, "the container did not make its symlinks"
        time.sleep(0.05)
    try:
        yield cid
    finally:
        daemon.docker("rm", "-f", cid)


@pytest.mark.parametrize("link", ["/abs", "/deep/a/b/rel"])
def test_symlink_as_cp_target_and_source_stays_inside(daemon: DaemonProcess, escaper: str, host_marker: str,
                                                      work_dir: str, link: str) -> None:
    src = os.path.join(work_dir, "planted")
    with open(src, "w") as f:
        f.write("from the test\n")
    cli(daemon, "cp", src, f"{escaper}:{link}/")  # into the directory the link names
    cli(daemon, "cp", src, f"{escaper}:{link}/planted2")
    host_untouched(host_marker)
    listing = cli(daemon, "exec", escaper, "ls", host_marker).split()
    assert sorted(listing) == ["inside-file", "planted", "planted2"]
    out = os.path.join(work_dir, "out")
    cli(daemon, "cp", f"{escaper}:{link}/.", out)  # out of it: the container's directory only
    assert sorted(os.listdir(out)) == ["inside-file", "planted", "planted2"]
    r = daemon.docker("cp", f"{escaper}:{link}/host-secret", os.path.join(work_dir, "secret"))
    assert r.returncode != 0 and "Could not find the file" in r.stderr
    assert not os.path.exists(os.path.join(work_dir, "secret"))


def test_stopped_container_symlinks_stay_inside(daemon: DaemonProcess, cp_image: str, host_marker: str,
                                               work_dir: str) -> None:
    cid = cli(daemon, "run", "-d", cp_image, "sh", "-c", f"mkdir -p {host_marker} && ln -s /etc/..{host_marker} /abs"
              ).strip()
    try:
        assert cli(daemon, "wait", cid).strip() == "0"
        src = os.path.join(work_dir, "planted")
        with open(src, "w") as f:
            f.write("x\n")
        cli(daemon, "cp", src, f"{cid}:/abs/")
        host_untouched(host_marker)
        r = daemon.docker("cp", f"{cid}:/abs/host-secret", os.path.join(work_dir, "secret"))
        assert r.returncode != 0 and not os.path.exists(os.path.join(work_dir, "secret"))
        cli(daemon, "cp", f"{cid}:/abs/planted", os.path.join(work_dir, "back"))
        with open(os.path.join(work_dir, "back")) as f:
            assert f.read() == "x\n"
    finally:
        daemon.docker("rm", "-f", cid)


def test_malicious_tar_is_refused_or_contained(daemon: DaemonProcess, escaper: str, host_marker: str) -> None:
    api = docker.APIClient(base_url=daemon.docker_host, version="1.44")
    refused = [
        [("../../../../../../.." + host_marker + "/dotdot", tarfile.REGTYPE, "x")],
        [("climb", tarfile.SYMTYPE, "../../../../../../.." + host_marker)],
        [("hard", tarfile.LNKTYPE, "../../../../../../.." + host_marker + "/host-secret")],
    ]
    for entries in refused:
        with pytest.raises(docker.errors.APIError):
            api.put_archive(escaper, "/deep/a", tar_of(entries))
    contained = tar_of([
        (host_marker + "/absolute", tarfile.REGTYPE, "abs"),  # taken relative to the destination
        ("via", tarfile.SYMTYPE, "/etc/.." + host_marker),
        ("via/through-link", tarfile.REGTYPE, "through"),  # into the container's marker dir
    ])
    assert api.put_archive(escaper, "/tmp", contained)
    host_untouched(host_marker)
    got = cli(daemon, "exec", escaper, "cat", f"/tmp{host_marker}/absolute", f"{host_marker}/through-link")
    assert got == "absthrough"


def test_symlink_swap_race_never_escapes(daemon: DaemonProcess, cp_image: str, host_marker: str) -> None:
    """The container swaps /r/x between a directory and a symlink at the marker while copies run."""
    script = (f"mkdir -p {host_marker} /r && echo inside > {host_marker}/inside-file; "
              f"while :; do rm -rf /r/x; mkdir /r/x; echo c > /r/x/host-secret; rm -rf /r/x; "
              f"ln -s /etc/..{host_marker} /r/x; done")
    cid = cli(daemon, "run", "-d", cp_image, "sh", "-c", script).strip()
    client = docker.DockerClient(base_url=daemon.docker_host, version="1.44")
    container = client.containers.get(cid)
    payload = tar_of([("raced", tarfile.REGTYPE, "race\n")])
    leaked: list[bytes] = []
    stop = time.monotonic() + 4
    try:
        def reader() -> None:
            while time.monotonic() < stop:
                try:
                    stream, _ = container.get_archive("/r/x/host-secret")
                    data = b"".join(stream)
                except (docker.errors.APIError, requests.exceptions.RequestException):
                    continue  # the file went away between the stat and the tar: the stream is cut
                if b"host only" in data:
                    leaked.append(data)

        thread = threading.Thread(target=reader)
        thread.start()
        puts = 0
        while time.monotonic() < stop:
            try:
                container.put_archive("/r/x", payload)
                puts += 1
            except docker.errors.APIError:
                continue
        thread.join()
        assert puts > 0
        assert not leaked
        host_untouched(host_marker)
    finally:
        daemon.docker("rm", "-f", cid)


def test_stopped_container_bind_target_behind_a_symlink(daemon: DaemonProcess, cp_image: str, host_marker: str,
                                                        work_dir: str) -> None:
    """The container moves its bind's parent away and puts a symlink at the host marker in its place:
    the stopped container's view mounts the bind inside the container, never on the host."""
    bind = os.path.join(work_dir, "bind")
    os.mkdir(bind)
    with open(os.path.join(bind, "in-bind"), "w") as f:
        f.write("bind\n")
    script = f"mv /lnk /moved && mkdir -p {host_marker} && ln -s /etc/..{host_marker} /lnk"
    cid = cli(daemon, "run", "-d", "-v", f"{bind}:/lnk/data", cp_image, "sh", "-c", script).strip()
    try:
        assert cli(daemon, "wait", cid).strip() == "0"
        out = os.path.join(work_dir, "out")
        cli(daemon, "cp", f"{cid}:/lnk/data/in-bind", out)
        with open(out) as f:
            assert f.read() == "bind\n"
        host_untouched(host_marker)
    finally:
        daemon.docker("rm", "-f", cid)
