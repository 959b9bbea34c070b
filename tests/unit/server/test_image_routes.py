"""Image routes against a fake image backend, over a real socket."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from sampan.api.progress import JSONMessage
from sampan.errdefs import Conflict, NotFound
from sampan.server.app import Backends, build_app
from tests.unit.server.harness import RawClient, ServerThread, get

DIGEST = "sha256:" + "ab" * 32


@dataclass
class Wire:
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return self.data


class FakeSystem:
    def version(self) -> dict[str, Any]:
        return {"Version": "test"}

    def info(self) -> dict[str, Any]:
        return {"ID": "test"}


@dataclass
class FakeImages:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    pull_script: Callable[[Callable[[JSONMessage], None]], None] | None = None

    def pull(self, ref: str, *, platform: str | None, auth: Any,
             progress: Callable[[JSONMessage], None]) -> None:
        self.calls.append(("pull", (ref, platform, auth)))
        if self.pull_script is not None:
            self.pull_script(progress)

    def list_images(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
                    digests: bool = False) -> list[Any]:
        self.calls.append(("list", (all, filters, digests)))
        return [Wire({"Id": "sha256:1", "RepoTags": ["a:b"], "RepoDigests": [], "Size": 5}),
                Wire({"Id": "sha256:2", "RepoTags": [], "RepoDigests": [], "Size": 7})]

    def inspect_image(self, name: str) -> Any:
        self.calls.append(("inspect", name))
        if name == "missing":
            raise NotFound("No such image: missing:latest")
        return Wire({"Id": "sha256:1", "RepoTags": [name], "Size": 9})

    def image_history(self, name: str) -> list[Any]:
        self.calls.append(("history", name))
        return [Wire({"Id": "sha256:1", "CreatedBy": "x"})]

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        self.calls.append(("tag", (name, repo, tag)))

    def delete_image(self, name: str, *, force: bool = False, noprune: bool = False) -> list[Any]:
        self.calls.append(("delete", (name, force, noprune)))
        if name == "busy":
            raise Conflict("conflict: unable to remove repository reference \"busy\"")
        return [Wire({"Untagged": name}), Wire({"Deleted": "sha256:1"})]

    def prune_images(self, filters: dict[str, list[str]] | None = None) -> Any:
        self.calls.append(("prune", filters))
        return Wire({"ImagesDeleted": None, "SpaceReclaimed": 0})


@pytest.fixture
def images() -> FakeImages:
    return FakeImages()


@pytest.fixture
def client(tmp_path: object, images: FakeImages) -> Iterator[RawClient]:
    st = ServerThread(build_app(Backends(system=FakeSystem(), images=images)),
                      os.path.join(str(tmp_path), "api.sock")).start()
    c = st.connect()
    try:
        yield c
    finally:
        c.close()
        st.stop()


def post(path: str, headers: str = "") -> bytes:
    return f"POST {path} HTTP/1.1\r\nContent-Length: 0\r\n{headers}\r\n".encode()


def lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(x) for x in body.split(b"\r\n") if x.strip()]


def test_pull_streams_progress_in_order(client: RawClient, images: FakeImages) -> None:
    def script(emit: Callable[[JSONMessage], None]) -> None:
        emit(JSONMessage(status="Pulling from library/busybox", id="latest"))
        for i in range(50):
            emit(JSONMessage(status="Downloading", id="abc", current=i, total=50))
        emit(JSONMessage(status=f"Digest: {DIGEST}"))
        emit(JSONMessage(status="Status: Downloaded newer image for busybox:latest"))

    images.pull_script = script
    client.send(post("/v1.44/images/create?fromImage=busybox&tag=latest"))
    status, headers, body = client.response()
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    msgs = lines(body)
    assert msgs[0] == {"status": "Pulling from library/busybox", "id": "latest"}
    assert [m["progressDetail"]["current"] for m in msgs[1:51]] == list(range(50))
    assert msgs[-1]["status"].startswith("Status: Downloaded")
    assert images.calls == [("pull", ("docker.io/library/busybox:latest", None, None))]


def test_pull_error_before_output_is_a_plain_error(client: RawClient, images: FakeImages) -> None:
    def script(emit: Callable[[JSONMessage], None]) -> None:
        raise NotFound("manifest for nonexistent:latest not found: manifest unknown: manifest unknown")

    images.pull_script = script
    client.send(post("/images/create?fromImage=nonexistent&tag=latest"))
    status, headers, body = client.response()
    assert status == 404 and "transfer-encoding" not in headers
    assert json.loads(body) == {
        "message": "manifest for nonexistent:latest not found: manifest unknown: manifest unknown"}


def test_pull_error_after_output_is_the_last_line(client: RawClient, images: FakeImages) -> None:
    def script(emit: Callable[[JSONMessage], None]) -> None:
        emit(JSONMessage(status="Pulling from library/busybox", id="latest"))
        raise OSError("connection reset by peer")

    images.pull_script = script
    client.send(post("/images/create?fromImage=busybox&tag=latest"))
    status, _, body = client.response()
    assert status == 200
    assert lines(body)[-1] == {"errorDetail": {"message": "connection reset by peer"},
                               "error": "connection reset by peer"}
    client.send(get("/_ping"))  # the connection is still good
    assert client.response()[2] == b"OK"


def test_pull_without_output(client: RawClient) -> None:
    client.send(post("/images/create?fromImage=busybox"))
    status, _, body = client.response()
    assert (status, body) == (200, b"")


def test_pull_stops_when_client_goes_away(tmp_path: object, images: FakeImages) -> None:
    stopped = threading.Event()
    first_sent = threading.Event()

    def script(emit: Callable[[JSONMessage], None]) -> None:
        try:
            emit(JSONMessage(status="Pulling"))
            first_sent.set()
            for _ in range(2000):
                emit(JSONMessage(status="Downloading", id="x", current=1, total=2))
                threading.Event().wait(0.005)
        except Exception:
            stopped.set()
            raise

    images.pull_script = script
    st = ServerThread(build_app(Backends(system=FakeSystem(), images=images)),
                      os.path.join(str(tmp_path), "api.sock")).start()
    try:
        c = st.connect()
        c.send(post("/images/create?fromImage=busybox&tag=latest"))
        c.read_until(b"Pulling")
        c.close()
        assert stopped.wait(5)
    finally:
        st.stop()


@pytest.mark.parametrize("from_image,tag,expected", [
    ("busybox", "latest", "docker.io/library/busybox:latest"),
    ("busybox", DIGEST, f"docker.io/library/busybox@{DIGEST}"),
    ("busybox:1.36", "musl", "docker.io/library/busybox:musl"),
    ("127.0.0.1:5000/a/b", "v1", "127.0.0.1:5000/a/b:v1"),
    ("busybox", "", "docker.io/library/busybox"),
    ("busybox:1.36", "", "docker.io/library/busybox:1.36"),
])
def test_pull_reference(client: RawClient, images: FakeImages, from_image: str, tag: str,
                        expected: str) -> None:
    client.send(post(f"/images/create?fromImage={quote(from_image)}&tag={quote(tag)}"))
    assert client.response()[0] == 200
    assert images.calls[0][1][0] == expected


def test_pull_platform_and_bad_input(client: RawClient, images: FakeImages) -> None:
    client.send(post("/images/create?fromImage=busybox&tag=latest&platform=linux/arm64"))
    assert client.response()[0] == 200
    assert images.calls[0][1][1] == "linux/arm64"
    client.send(post("/images/create?fromImage=Busybox&tag=latest"))
    status, _, body = client.response()
    assert status == 400 and "must be lowercase" in json.loads(body)["message"]
    client.send(post("/images/create?fromSrc=-"))
    assert client.response()[0] == 501
    client.send(post("/images/create"))
    assert client.response()[0] == 400


def test_list_passes_query(client: RawClient, images: FakeImages) -> None:
    filters = quote(json.dumps({"dangling": {"true": True}, "label": ["a=b"]}))
    client.send(get(f"/images/json?all=1&digests=true&filters={filters}"))
    status, _, body = client.response()
    assert status == 200 and [i["Id"] for i in json.loads(body)] == ["sha256:1", "sha256:2"]
    assert images.calls[-1] == ("list", (True, {"dangling": ["true"], "label": ["a=b"]}, True))


def test_list_legacy_filter_param(client: RawClient, images: FakeImages) -> None:
    client.send(get("/v1.40/images/json?filter=busy*"))
    assert client.response()[0] == 200
    assert images.calls[-1] == ("list", (False, {"reference": ["busy*"]}, False))


def test_list_bad_filters(client: RawClient) -> None:
    client.send(get("/images/json?filters=%7Bnot-json"))
    status, _, body = client.response()
    assert (status, json.loads(body)) == (400, {"message": "invalid filter"})


def test_inspect_and_history_with_registry_names(client: RawClient, images: FakeImages) -> None:
    client.send(get("/v1.44/images/127.0.0.1:5000/a/b:tag/json"))
    status, _, body = client.response()
    assert status == 200 and json.loads(body)["RepoTags"] == ["127.0.0.1:5000/a/b:tag"]
    client.send(get("/images/127.0.0.1:5000/a/b:tag/history"))
    assert json.loads(client.response()[2]) == [{"Id": "sha256:1", "CreatedBy": "x"}]
    client.send(get("/images/missing/json"))
    status, _, body = client.response()
    assert (status, json.loads(body)) == (404, {"message": "No such image: missing:latest"})


def test_tag_is_201_with_empty_body(client: RawClient, images: FakeImages) -> None:
    client.send(post("/images/busybox/tag?repo=127.0.0.1:5000/mine&tag=v2"))
    status, headers, body = client.response()
    assert (status, body, headers["content-length"]) == (201, b"", "0")
    assert images.calls[-1] == ("tag", ("busybox", "127.0.0.1:5000/mine", "v2"))


def test_delete(client: RawClient, images: FakeImages) -> None:
    client.send(b"DELETE /images/busybox:latest?force=1&noprune=0 HTTP/1.1\r\n\r\n")
    status, _, body = client.response()
    assert status == 200
    assert json.loads(body) == [{"Untagged": "busybox:latest"}, {"Deleted": "sha256:1"}]
    assert images.calls[-1] == ("delete", ("busybox:latest", True, False))
    client.send(b"DELETE /images/busy HTTP/1.1\r\n\r\n")
    assert client.response()[0] == 409
    client.send(b"DELETE /images/ HTTP/1.1\r\n\r\n")
    status, _, body = client.response()
    assert (status, json.loads(body)) == (400, {"message": "image name cannot be blank"})


def test_prune(client: RawClient, images: FakeImages) -> None:
    filters = quote(json.dumps({"dangling": ["false"]}))
    client.send(post(f"/images/prune?filters={filters}"))
    status, _, body = client.response()
    assert (status, json.loads(body)) == (200, {"ImagesDeleted": None, "SpaceReclaimed": 0})
    assert images.calls[-1] == ("prune", {"dangling": ["false"]})


def test_system_routes(client: RawClient) -> None:
    client.send(b"HEAD /_ping HTTP/1.1\r\n\r\n")
    status, headers, _ = client.response(head_only=True)
    assert status == 200 and headers["pragma"] == "no-cache"
    client.send(get("/v1.24/version"))
    assert json.loads(client.response()[2]) == {"Version": "test"}
    client.send(get("/info"))
    assert json.loads(client.response()[2]) == {"ID": "test"}


def test_list_shape_follows_the_api_version(client: RawClient) -> None:
    client.send(get("/v1.44/images/json"))
    new = json.loads(client.response()[2])
    assert new[1]["RepoTags"] == [] and "VirtualSize" not in new[1]
    client.send(get("/v1.43/images/json"))
    mid = json.loads(client.response()[2])
    assert mid[1]["RepoTags"] == [] and mid[1]["VirtualSize"] == 7
    client.send(get("/v1.41/images/json"))
    old = json.loads(client.response()[2])
    assert old[0]["RepoTags"] == ["a:b"] and old[0]["VirtualSize"] == 5
    assert old[1]["RepoTags"] == ["<none>:<none>"] and old[1]["RepoDigests"] == ["<none>@<none>"]


def test_inspect_virtual_size_before_1_44(client: RawClient) -> None:
    client.send(get("/v1.43/images/busybox/json"))
    assert json.loads(client.response()[2])["VirtualSize"] == 9
    client.send(get("/v1.44/images/busybox/json"))
    assert "VirtualSize" not in json.loads(client.response()[2])


def test_undecodable_registry_auth_is_ignored(client: RawClient, images: FakeImages) -> None:
    client.send(post("/images/create?fromImage=busybox&tag=latest", "X-Registry-Auth: %%%not-base64\r\n"))
    assert client.response()[0] == 200
    assert images.calls[-1][1][2] is None


def test_registry_auth_is_decoded(client: RawClient, images: FakeImages) -> None:
    import base64

    header = base64.urlsafe_b64encode(json.dumps({"username": "u", "password": "p"}).encode()).decode()
    client.send(post("/images/create?fromImage=busybox&tag=latest", f"X-Registry-Auth: {header}\r\n"))
    assert client.response()[0] == 200
    auth = images.calls[-1][1][2]
    assert (auth.username, auth.password) == ("u", "p")


def test_platform_ignored_before_1_32(client: RawClient, images: FakeImages) -> None:
    client.send(post("/v1.31/images/create?fromImage=busybox&tag=latest&platform=linux/arm64"))
    assert client.response()[0] == 200
    assert images.calls[-1][1][1] is None
