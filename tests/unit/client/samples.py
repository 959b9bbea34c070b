"""Canned Engine API answers shaped like Docker's (v1.44), shared by client and CLI tests."""

from __future__ import annotations

import time
from typing import Any


def _now() -> int:
    """Evaluated per test, so relative ages ("About a minute ago") hold however long the run is."""
    return int(time.time())

BUSYBOX_ID = "sha256:" + "a4" * 32
APP_ID = "sha256:" + "5e" * 32
DANGLING_ID = "sha256:" + "0d" * 32
BUSYBOX_DIGEST = "sha256:" + "d1" * 32
LAYER = "a46fbb00284b"


def images() -> list[dict[str, Any]]:
    return [
        {"Id": APP_ID, "ParentId": "", "RepoTags": ["localhost:5000/team/app:v1", "app:latest"],
         "RepoDigests": ["localhost:5000/team/app@sha256:" + "aa" * 32], "Created": _now() - 2 * 3600,
         "Size": 12_345_678, "SharedSize": -1, "VirtualSize": 12_345_678, "Labels": {}, "Containers": -1},
        {"Id": BUSYBOX_ID, "ParentId": "", "RepoTags": ["busybox:latest"],
         "RepoDigests": [f"busybox@{BUSYBOX_DIGEST}"], "Created": _now() - 3 * 7 * 86400,
         "Size": 4_261_550, "SharedSize": -1, "Labels": None, "Containers": -1},
        {"Id": DANGLING_ID, "ParentId": "", "RepoTags": [], "RepoDigests": [], "Created": _now() - 90,
         "Size": 999, "SharedSize": -1, "Labels": {}, "Containers": -1},
    ]


def inspect_busybox() -> dict[str, Any]:
    return {
        "Id": BUSYBOX_ID, "RepoTags": ["busybox:latest"], "RepoDigests": [f"busybox@{BUSYBOX_DIGEST}"],
        "Parent": "", "Comment": "", "Created": "2024-01-02T03:04:05.123456789Z", "DockerVersion": "",
        "Author": "", "Config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["sh"], "Labels": {"a": "<b>"}},
        "Architecture": "amd64", "Os": "linux", "Size": 4_261_550,
        "GraphDriver": {"Name": "overlay2", "Data": None},
        "RootFS": {"Type": "layers", "Layers": ["sha256:" + "11" * 32]},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }


def history() -> list[dict[str, Any]]:
    return [
        {"Id": BUSYBOX_ID, "Created": _now() - 3600, "CreatedBy": '/bin/sh -c #(nop)  CMD ["sh"]',
         "Tags": ["busybox:latest"], "Size": 0, "Comment": ""},
        {"Id": "<missing>", "Created": _now() - 7200,
         "CreatedBy": "/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7 in / ",
         "Tags": None, "Size": 4_261_550, "Comment": "buildkit.dockerfile.v0"},
    ]


def version() -> dict[str, Any]:
    return {
        "Platform": {"Name": "sampan engine"},
        "Components": [
            {"Name": "Engine", "Version": "0.1.0", "Details": {
                "ApiVersion": "1.44", "Arch": "amd64", "BuildTime": "2026-01-01T00:00:00Z",
                "Experimental": "false", "GitCommit": "abc1234", "GoVersion": "python3.11.7",
                "KernelVersion": "6.1.0", "MinAPIVersion": "1.24", "Os": "linux"}},
            {"Name": "runc", "Version": "1.1.5", "Details": {"GitCommit": "v1.1.5-0-gf19387a"}},
        ],
        "Version": "0.1.0", "ApiVersion": "1.44", "MinAPIVersion": "1.24", "GitCommit": "abc1234",
        "GoVersion": "python3.11.7", "Os": "linux", "Arch": "amd64", "KernelVersion": "6.1.0",
        "BuildTime": "2026-01-01T00:00:00Z",
    }


def info() -> dict[str, Any]:
    return {
        "ID": "6f6e0b7c-0000", "Containers": 3, "ContainersRunning": 1, "ContainersPaused": 0,
        "ContainersStopped": 2, "Images": 5, "Driver": "overlay", "DriverStatus": [["Backing Filesystem", "extfs"]],
        "DockerRootDir": "/var/lib/sampan", "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs",
        "CgroupVersion": "1", "KernelVersion": "6.1.0", "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
        "OSType": "linux", "Architecture": "x86_64", "NCPU": 2, "MemTotal": 4_127_195_136,
        "Name": "host1", "ServerVersion": "0.1.0", "Runtimes": {"runc": {"path": "runc"}},
        "DefaultRuntime": "runc", "Debug": False, "ExperimentalBuild": False, "LiveRestoreEnabled": False,
        "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {}},
        "Warnings": None,
    }


def pull_stream(layers: tuple[str, ...] = (LAYER, "b3c1d2e4f5a6"), exists: tuple[str, ...] = ()) -> list[
        dict[str, Any]]:
    """What dockerd sends for `docker pull busybox` (two layers, one maybe already present)."""
    msgs: list[dict[str, Any]] = [{"status": "Pulling from library/busybox", "id": "latest"}]
    for layer in layers:
        if layer in exists:
            msgs.append({"status": "Already exists", "progressDetail": {}, "id": layer})
        else:
            msgs.append({"status": "Pulling fs layer", "progressDetail": {}, "id": layer})
    for layer in layers:
        if layer in exists:
            continue
        for cur in (1_000_000, 2_100_000):
            msgs.append({"status": "Downloading", "progressDetail": {"current": cur, "total": 2_100_000},
                         "progress": "[==>   ]", "id": layer})
        msgs.append({"status": "Verifying Checksum", "progressDetail": {}, "id": layer})
        msgs.append({"status": "Download complete", "progressDetail": {}, "id": layer})
    for layer in layers:
        if layer in exists:
            continue
        msgs.append({"status": "Extracting", "progressDetail": {"current": 2_100_000, "total": 2_100_000},
                     "progress": "[=====>]", "id": layer})
        msgs.append({"status": "Pull complete", "progressDetail": {}, "id": layer})
    msgs.append({"status": f"Digest: {BUSYBOX_DIGEST}"})
    msgs.append({"status": "Status: Downloaded newer image for busybox:latest"})
    return msgs


def install(daemon: Any) -> None:
    """Answer the usual image and system endpoints on a FakeDaemon."""
    from tests.unit.client.fakeserver import Reply

    daemon.route("GET", "/images/json", json=images())
    daemon.route("GET", "/images/[^/]+(?:/[^/]+)*/json", json={"message": "No such image: x"}, status=404)
    daemon.route("GET", "/images/busybox(?::latest)?/json", json=inspect_busybox())
    daemon.route("GET", "/images/busybox/history", json=history())
    daemon.route("GET", "/version", json=version())
    daemon.route("GET", "/info", json=info())
    daemon.route("POST", "/images/create", Reply(stream=pull_stream()))
