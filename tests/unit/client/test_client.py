"""APIClient against a fake daemon on a temp unix socket: negotiation, errors, streams, keep-alive."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

import pytest

from sampan import errdefs
from sampan.client import APIClient, ConnectionFailed, InvalidHost
from sampan.client.api import encode_query, quote
from sampan.client.auth import credentials_for, encode_auth, load_config
from sampan.client.transport import parse_host
from tests.unit.client import samples
from tests.unit.client.fakeserver import FakeDaemon, Reply


@pytest.fixture
def daemon() -> Iterator[FakeDaemon]:
    with FakeDaemon() as d:
        samples.install(d)
        yield d


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)


def test_negotiates_once_and_keeps_the_connection(daemon: FakeDaemon) -> None:
    with APIClient(daemon.docker_host) as c:
        assert c.images()[0]["Id"] == samples.APP_ID
        assert c.version()["ApiVersion"] == "1.44"
        assert c.info()["NCPU"] == 2
    assert [r.path for r in daemon.requests] == ["/_ping", "/images/json", "/version", "/info"]
    assert [r.version for r in daemon.requests[1:]] == ["1.44"] * 3
    assert daemon.connections == 1
    assert daemon.requests[1].headers["user-agent"].startswith("sampan-cli/")


@pytest.mark.parametrize(("server", "used"), [("1.41", "1.41"), ("1.50", "1.44"), ("1.9", "1.9")])
def test_uses_the_lower_version(server: str, used: str) -> None:
    with FakeDaemon(api_version=server) as d, APIClient(d.docker_host) as c:
        d.route("GET", "/images/json", json=[])
        c.images()
        assert d.requests[-1].version == used


def test_no_api_version_header_means_oldest(daemon: FakeDaemon) -> None:
    daemon.route("GET", "/_ping", body=b"OK", headers={"Api-Version": ""})
    with APIClient(daemon.docker_host) as c:
        assert c.api_version == "1.24"


def test_explicit_version_skips_ping(daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    with APIClient(daemon.docker_host, version="1.40") as c:
        c.images()
    monkeypatch.setenv("DOCKER_API_VERSION", "1.43")
    with APIClient(daemon.docker_host) as c:
        c.images()
    assert [(r.path, r.version) for r in daemon.requests] == [("/images/json", "1.40"), ("/images/json", "1.43")]


def test_docker_host_from_environment(daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", daemon.docker_host)
    with APIClient() as c:
        assert c.host == daemon.docker_host
        assert c.ping()["api-version"] == "1.44"


def test_reconnects_when_the_server_closed(daemon: FakeDaemon) -> None:
    daemon.route("GET", "/info", Reply(json={"ok": 1}, close=True))
    with APIClient(daemon.docker_host) as c:
        assert c.info() == {"ok": 1}
        assert c.info() == {"ok": 1}
        assert c.images()
    assert daemon.connections == 3


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (404, b'{"message":"No such image: nope:latest"}', errdefs.NotFound, "No such image: nope:latest"),
        (409, b'{"message":"conflict: unable to delete"}', errdefs.Conflict, "conflict: unable to delete"),
        (400, b'{"message":"bad"}', errdefs.InvalidArgument, "bad"),
        (500, b"plain failure\n", errdefs.System, "plain failure"),
        (503, b"", errdefs.Unavailable, "HTTP 503"),
    ],
)
def test_error_mapping(daemon: FakeDaemon, status: int, body: bytes, kind: type, message: str) -> None:
    daemon.route("DELETE", "/images/nope", status=status, body=body)
    with APIClient(daemon.docker_host) as c, pytest.raises(kind) as info:
        c.remove_image("nope")
    assert str(info.value) == message


def test_cannot_connect_message_is_dockers(tmp_path: object) -> None:
    host = f"unix://{tmp_path}/missing.sock"
    with APIClient(host) as c, pytest.raises(ConnectionFailed) as info:
        c.images()
    assert str(info.value) == f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?"
    assert isinstance(info.value, errdefs.Unavailable)


def test_query_parameters_and_quoting(daemon: FakeDaemon) -> None:
    daemon.route("GET", "/images/.*/json", json={"Id": "x"})
    daemon.route("DELETE", "/images/.*", json=[{"Untagged": "a:b"}])
    daemon.route("POST", "/images/.*/tag", status=201, body=b"")
    daemon.route("POST", "/images/prune", json={"SpaceReclaimed": 0})
    with APIClient(daemon.docker_host) as c:
        c.images(all=True, filters={"dangling": ["true"]})
        c.inspect_image("localhost:5000/a/b:v1")
        assert c.remove_image("x y", force=True) == [{"Untagged": "a:b"}]
        c.tag_image("busybox", "docker.io/me/bb", "v2")
        c.prune_images({"dangling": ["false"]})
    reqs = daemon.requests[1:]
    assert reqs[0].query == {"all": ["1"], "filters": ['{"dangling":["true"]}']}
    assert reqs[1].path == "/images/localhost:5000/a/b:v1/json"
    assert reqs[2].path == "/images/x%20y" and reqs[2].query == {"force": ["1"]}
    assert reqs[3].query == {"repo": ["docker.io/me/bb"], "tag": ["v2"]}
    assert reqs[4].method == "POST" and json.loads(reqs[4].query["filters"][0]) == {"dangling": ["false"]}


def test_pull_streams_decoded_messages_with_auth(daemon: FakeDaemon) -> None:
    with APIClient(daemon.docker_host) as c:
        msgs = list(c.pull("docker.io/library/busybox", "latest", platform="linux/amd64",
                           registry_auth="e30="))
        assert msgs == samples.pull_stream()
        assert c.images()  # the connection is reusable after a fully read stream
    req = daemon.find("POST", "/images/create")[0]
    assert req.query == {"fromImage": ["docker.io/library/busybox"], "tag": ["latest"],
                         "platform": ["linux/amd64"]}
    assert req.headers["x-registry-auth"] == "e30="
    assert daemon.connections == 1


def test_abandoned_stream_does_not_break_the_next_call(daemon: FakeDaemon) -> None:
    with APIClient(daemon.docker_host) as c:
        stream = c.pull("busybox", "latest")
        next(stream)
        stream.close()
        assert c.info()["NCPU"] == 2


def test_parse_host() -> None:
    a = parse_host("unix:///run/x.sock")
    assert (a.path, a.http_host) == ("/run/x.sock", "api.moby.localhost")
    assert parse_host("/run/y.sock").path == "/run/y.sock"
    t = parse_host("tcp://127.0.0.1:2376")
    assert (t.host, t.port) == ("127.0.0.1", 2376)
    assert parse_host("tcp://example").port == 2375
    for bad in ("ssh://x", "unix://", "tcp://:x"):
        with pytest.raises(InvalidHost):
            parse_host(bad)


def test_quote_and_query() -> None:
    assert quote("a b/c:d", "/:") == "a%20b/c:d"
    assert encode_query({"a": True, "b": False, "c": None, "d": "x&y"}) == "a=1&b=0&d=x%26y"


def test_docker_config_credentials(tmp_path: os.PathLike[str]) -> None:
    cfg_dir = os.fspath(tmp_path)
    auth = base64.b64encode(b"alice:s3cret").decode()
    with open(os.path.join(cfg_dir, "config.json"), "w") as f:
        json.dump({"auths": {"localhost:5000": {"auth": auth},
                             "https://index.docker.io/v1/": {"username": "bob", "password": "pw"}}}, f)
    config = load_config(cfg_dir)
    assert credentials_for("localhost:5000", config) == {
        "username": "alice", "password": "s3cret", "serveraddress": "localhost:5000"}
    assert credentials_for("docker.io", config)["username"] == "bob"  # type: ignore[index]
    assert credentials_for("other:1", config) is None
    header = encode_auth(credentials_for("localhost:5000", config))
    assert json.loads(base64.urlsafe_b64decode(header))["password"] == "s3cret"
    assert load_config(os.path.join(cfg_dir, "missing")) == {}


def test_upload_streams_a_chunked_body_on_a_fresh_connection(daemon: FakeDaemon) -> None:
    daemon.route("PUT", "/containers/c1/archive", Reply(200))
    produced: list[int] = []

    def pieces() -> Iterator[bytes]:
        for i in range(5):
            produced.append(i)
            yield bytes([65 + i]) * 1000
        yield b""  # an empty piece is skipped, not taken for the end

    with APIClient(daemon.docker_host) as c:
        c.ping()
        c.upload("PUT", "/containers/c1/archive", {"path": "/x"}, pieces()).read()
        c.ping()  # the connection is usable again after an upload
    req = daemon.find("PUT", "/containers/c1/archive")[0]
    assert req.headers["transfer-encoding"] == "chunked" and "content-length" not in req.headers
    assert req.headers["content-type"] == "application/x-tar" and req.query == {"path": ["/x"]}
    assert req.body == b"".join(bytes([65 + i]) * 1000 for i in range(5)) and produced == [0, 1, 2, 3, 4]


def test_upload_error_answer_is_an_errdefs_kind(daemon: FakeDaemon) -> None:
    daemon.route("PUT", "/containers/nope/archive", Reply(404, json={"message": "No such container: nope"}))
    with APIClient(daemon.docker_host) as c, pytest.raises(errdefs.NotFound, match="No such container: nope"):
        c.upload("PUT", "/containers/nope/archive", None, [b"x" * 10])
