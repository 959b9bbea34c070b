"""`sampan ps` prints docker 28's table, truncation, quoting and formats for the same containers."""

from __future__ import annotations

import json

import pytest

from sampan.cli.ps import ContainerRow, display_ports, go_quote
from tests.unit.cli_containers.conftest import docker, sampan
from tests.unit.cli_containers.fakeengine import FakeEngine


@pytest.fixture
def populated(engine: FakeEngine) -> FakeEngine:
    for argv in (
        ["--name", "short", "busybox", "true"],
        ["--name", "long", "--entrypoint", "/bin/sh", "busybox", "-c", 'echo "quoted" and a much longer tail'],
        ["--name", "uni", "-l", "b=2", "-l", "a=1", "busybox", "echo", "héllo wörld ünïcode ✓ text"],
        ["-d", "--name", "ports", "-p", "8080:80", "-p", "127.0.0.1:53:53/udp", "-p", "9000", "busybox", "sleep", "30"],
        ["-d", "--name", "up", "busybox", "sleep", "30"],
    ):
        assert sampan("run", *argv).status == 0
    return engine


PS_CASES = [
    [], ["-a"], ["-a", "-q"], ["-a", "--no-trunc"], ["-a", "-s"], ["-a", "--format", "json"],
    ["-a", "--format", "table {{.Names}}\\t{{.Status}}\\t{{.Labels}}"],
    ["-a", "--format", "{{.ID}} {{.Command}} {{.Networks}} {{.State}}"],
    ["-a", "--format", "{{.Names}}: {{.Ports}}"], ["-a", "--format", "table {{.Size}}\\t{{.Mounts}}"],
]


@pytest.mark.parametrize("argv", PS_CASES, ids=[" ".join(a) for a in PS_CASES])
def test_ps_like_docker(populated: FakeEngine, argv: list[str]) -> None:
    d, s = docker("ps", *argv), sampan("ps", *argv)
    assert (s.status, s.err) == (d.status, d.err)
    if "json" in argv:
        assert [json.loads(x) for x in s.out.splitlines()] == [json.loads(x) for x in d.out.splitlines()]
    else:
        assert s.out == d.out


def test_ps_limits_and_filters_in_query(populated: FakeEngine) -> None:
    sampan("ps", "-n", "2", "-f", "status=exited", "-f", "label=a")
    _, query, _ = populated.find("GET", "/containers/json")[-1]
    assert query["limit"] == ["2"]
    assert json.loads(query["filters"][0]) == {"status": ["exited"], "label": ["a"]}
    sampan("ps", "-l")
    assert populated.find("GET", "/containers/json")[-1][1]["limit"] == ["1"]
    for argv in (["container", "ls", "-aq"], ["container", "list", "-aq"], ["container", "ps", "-aq"]):
        assert len(sampan(*argv).out.split()) == 5


def test_command_truncation_and_quoting() -> None:
    row = ContainerRow({"Id": "ab" * 32, "Command": 'sh -c "echo hello world"'}, trunc=True)
    assert row.Command() == '"sh -c \\"echo hello w…"'
    assert ContainerRow({"Command": "a" * 20}, trunc=True).Command() == '"' + "a" * 20 + '"'
    assert ContainerRow({"Command": "a\tb"}, trunc=False).Command() == '"a\\tb"'
    assert row.ID() == "ab" * 6
    assert go_quote("x\x01") == '"x\\x01"'


def test_image_and_names_columns() -> None:
    image_id = "sha256:" + "cd" * 32
    assert ContainerRow({"Image": image_id, "ImageID": image_id}, trunc=True).Image() == "cd" * 6
    assert ContainerRow({"Image": "docker.io/library/busybox:1"}, trunc=True).Image() == "busybox:1"
    assert ContainerRow({"Image": "busybox@sha256:" + "ef" * 32}, trunc=True).Image() == "busybox"
    assert ContainerRow({"Image": ""}, trunc=True).Image() == "<no image>"
    names = {"Names": ["/web/db", "/db"]}
    assert ContainerRow(names, trunc=True).Names() == "db"
    assert ContainerRow(names, trunc=False).Names() == "web/db,db"


def test_ports_and_size() -> None:
    ports = [{"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
             {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
             {"PrivatePort": 53, "Type": "udp"}]
    assert display_ports(ports) == "53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
    same = [{"IP": "0.0.0.0", "PrivatePort": n, "PublicPort": n, "Type": "tcp"} for n in (81, 80, 82, 90)]
    assert display_ports(same) == "0.0.0.0:80-82->80-82/tcp, 0.0.0.0:90->90/tcp"
    assert ContainerRow({"SizeRw": 0}, trunc=True).Size() == "0B"
    assert ContainerRow({"SizeRw": 2000, "SizeRootFs": 5_000_000}, trunc=True).Size() == "2kB (virtual 5MB)"
