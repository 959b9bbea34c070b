"""The system endpoints of a real sampand, seen by raw HTTP, the docker CLI and docker-py."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root

# The Debian CLI (20.10, API 1.41) and, when present, a newer one (API 1.44+ negotiating down).
DOCKER_CLIS = sorted({p for p in ("/usr/bin/docker", "/usr/local/bin/docker", shutil.which("docker"))
                      if p and os.path.exists(p)})


def test_ping_get_and_head(daemon: DaemonProcess) -> None:
    status, headers, body = daemon.request("GET", "/_ping")
    assert (status, body) == (200, b"OK")
    assert headers["api-version"] == "1.44"
    assert headers["ostype"] == "linux"
    assert headers["docker-experimental"] == "false"
    assert headers["server"].startswith("sampan/")
    assert headers["cache-control"] == "no-cache, no-store, must-revalidate"
    assert headers["pragma"] == "no-cache"
    assert "builder-version" in headers
    status, headers, body = daemon.request("HEAD", "/_ping")
    assert (status, body) == (200, b"")
    assert headers["api-version"] == "1.44"


def test_version(daemon: DaemonProcess) -> None:
    status, v = daemon.json("GET", "/v1.44/version")
    assert status == 200
    assert v["Platform"]["Name"] == "sampan"
    assert v["ApiVersion"] == "1.44" and v["MinAPIVersion"] == "1.24"
    assert v["Components"][0]["Name"] == "Engine"
    assert v["Os"] == "linux" and v["GoVersion"].startswith("python")
    for key in ("Version", "GitCommit", "Arch", "KernelVersion", "BuildTime"):
        assert v[key]


def test_info_shape(daemon: DaemonProcess) -> None:
    status, info = daemon.json("GET", "/info")
    assert status == 200
    assert info["DockerRootDir"] == daemon.data_root
    assert info["OSType"] == "linux"
    assert info["CgroupDriver"] == "cgroupfs"
    assert info["CgroupVersion"] in ("1", "2")
    assert info["NCPU"] >= 1 and info["MemTotal"] > 0
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert "127.0.0.0/8" in info["RegistryConfig"]["InsecureRegistryCIDRs"]
    assert info["ID"]
    # The ID is stable across restarts (kept under the data root).
    first = info["ID"]
    daemon.stop()
    daemon.start()
    assert daemon.json("GET", "/info")[1]["ID"] == first


def test_version_prefix(daemon: DaemonProcess) -> None:
    assert daemon.request("GET", "/v1.24/_ping")[0] == 200
    status, _, body = daemon.request("GET", "/v1.45/version")
    assert status == 400
    assert json.loads(body)["message"] == (
        "client version 1.45 is too new. Maximum supported API version is 1.44")
    status, _, body = daemon.request("GET", "/v1.23/version")
    assert status == 400
    assert "is too old. Minimum supported API version is 1.24" in json.loads(body)["message"]
    status, _, body = daemon.request("GET", "/v1.44/nope")
    assert (status, json.loads(body)) == (404, {"message": "page not found"})


@pytest.mark.parametrize("docker", DOCKER_CLIS)
def test_docker_cli_version_and_info(daemon: DaemonProcess, docker: str) -> None:
    out = daemon.docker("version", cli=docker)
    assert out.returncode == 0, out.stderr
    assert "Server: sampan" in out.stdout
    out = daemon.docker("info", cli=docker)
    assert out.returncode == 0, out.stderr
    assert f"Docker Root Dir: {daemon.data_root}" in out.stdout
    out = daemon.docker("version", "--format", "{{.Server.APIVersion}}", cli=docker)
    assert out.stdout.strip() == "1.44"


def test_docker_cli_error_message(daemon: DaemonProcess) -> None:
    out = daemon.docker("image", "inspect", "nothing-here")
    assert out.returncode == 1
    assert "nothing-here" in out.stderr


def test_docker_py(daemon: DaemonProcess) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.docker_host, version="auto", timeout=30)
    try:
        assert client.ping() is True
        assert client.version()["Platform"]["Name"] == "sampan"
        assert client.info()["DockerRootDir"] == daemon.data_root
    finally:
        client.close()
