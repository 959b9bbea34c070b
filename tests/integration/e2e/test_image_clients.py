"""The image half of the Engine API as real clients use it: the unmodified `docker` CLI,
docker-py and the `sampan` CLI, all against one sampand and the local registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.images import Entry, Image, Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

pytestmark = pytest.mark.root
DOCKER = shutil.which("docker")


@pytest.fixture(scope="module")
def images(registry: LocalRegistry) -> dict[str, Image]:
    """Two images in the registry: a one-layer busybox and a two-layer image sharing its base."""
    base = make_layer(busybox_entries())
    top = make_layer([Entry("app", "dir"), Entry("app/hello.txt", data=b"hi\n")])
    imgs = {
        "e2e/busybox": build_image([base], labels={"purpose": "e2e"}),
        "e2e/app": build_image([base, top], fmt="docker", cmd=["cat", "/app/hello.txt"]),
    }
    pusher = Pusher(registry.url)
    for repo, img in imgs.items():
        pusher.push_image(repo, "latest", img)
    return imgs


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(str(tmp_path_factory.mktemp("e2e-daemon")))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def run(argv: list[str], host: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DOCKER_HOST=host)
    res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    if check and res.returncode != 0:
        raise AssertionError(f"{argv} failed ({res.returncode}): {res.stdout}\n{res.stderr}")
    return res


def sampan(*args: str) -> list[str]:
    return [sys.executable, "-m", "sampan.cli.main", *args]


@pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")
def test_docker_cli_image_lifecycle(daemon: DaemonProcess, registry: LocalRegistry,
                                    images: dict[str, Image]) -> None:
    host = daemon.docker_host
    ref = f"{registry.host}/e2e/busybox:latest"
    out = run(["docker", "pull", ref], host).stdout
    assert "Status: Downloaded newer image for" in out or "Image is up to date" in out
    img = images["e2e/busybox"]
    got_id = run(["docker", "image", "inspect", ref, "--format", "{{.Id}}"], host).stdout.strip()
    assert got_id == img.image_id
    layers = run(["docker", "image", "inspect", ref, "--format", "{{json .RootFS.Layers}}"], host).stdout
    assert json.loads(layers) == img.diff_ids
    listing = run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], host).stdout
    assert f"{registry.host}/e2e/busybox:latest {img.image_id[7:19]}" in listing
    run(["docker", "tag", ref, "e2e-local:v1"], host)
    assert "e2e-local" in run(["docker", "images"], host).stdout
    hist = run(["docker", "history", "e2e-local:v1"], host).stdout
    assert "IMAGE" in hist.splitlines()[0]
    rmi = run(["docker", "rmi", "e2e-local:v1"], host).stdout
    assert "Untagged: e2e-local:v1" in rmi
    missing = run(["docker", "pull", f"{registry.host}/e2e/nothing-here"], host, check=False)
    assert missing.returncode == 1
    assert "manifest unknown" in missing.stderr or "not found" in missing.stderr
    assert run(["docker", "version"], host).returncode == 0
    assert run(["docker", "info"], host).returncode == 0


def test_docker_py_images(daemon: DaemonProcess, registry: LocalRegistry, images: dict[str, Image]) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.docker_host)
    try:
        assert client.ping()
        repo = f"{registry.host}/e2e/app"
        image = client.images.pull(repo, tag="latest")
        expected = images["e2e/app"]
        assert image.id == expected.image_id
        assert image.attrs["RootFS"]["Layers"] == expected.diff_ids
        assert f"{repo}:latest" in image.tags
        assert any(i.id == expected.image_id for i in client.images.list())
        image.tag("e2e-py", "t1")
        assert "e2e-py:t1" in client.images.get("e2e-py:t1").tags
        client.images.remove("e2e-py:t1")
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get("e2e-py:t1")
        history = client.images.get(f"{repo}:latest").history()
        assert history[0]["Id"] == expected.image_id
    finally:
        client.close()


def test_sampan_cli_images(daemon: DaemonProcess, registry: LocalRegistry, images: dict[str, Image]) -> None:
    host = daemon.docker_host
    ref = f"{registry.host}/e2e/app:latest"
    out = run(sampan("-H", host, "pull", ref), host).stdout
    assert out.strip().splitlines()[-1] == ref
    table = run(sampan("-H", host, "images"), host).stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(line.startswith(f"{registry.host}/e2e/app ") for line in table[1:])
    ids = run(sampan("-H", host, "images", "-q"), host).stdout.split()
    assert images["e2e/app"].image_id[7:19] in ids
    inspect = json.loads(run(sampan("-H", host, "image", "inspect", ref), host).stdout)
    assert inspect[0]["Id"] == images["e2e/app"].image_id
    fmt = run(sampan("-H", host, "inspect", "--format", "{{.Id}}", ref), host).stdout.strip()
    assert fmt == images["e2e/app"].image_id
    missing = run(sampan("-H", host, "rmi", "nope:none"), host, check=False)
    assert missing.returncode == 1 and "No such image: nope:none" in missing.stderr
