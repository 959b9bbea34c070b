"""Every command in-process against the fake daemon; expected texts were checked against docker 28."""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator

import pytest

from sampan.cli.main import run
from tests.unit.client import samples
from tests.unit.client.fakeserver import FakeDaemon, Reply


class Result:
    def __init__(self, status: int, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> Iterator[FakeDaemon]:
    monkeypatch.setenv("DOCKER_CONFIG", os.fspath(tmp_path))
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)
    with FakeDaemon() as d:
        samples.install(d)
        monkeypatch.setenv("DOCKER_HOST", d.docker_host)
        yield d


def sampan(*argv: str, stdin: str = "") -> Result:
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return Result(status, out.getvalue(), err.getvalue())


IMAGES_TABLE = """\
REPOSITORY                TAG       IMAGE ID       CREATED              SIZE
localhost:5000/team/app   v1        5e5e5e5e5e5e   2 hours ago          12.3MB
app                       latest    5e5e5e5e5e5e   2 hours ago          12.3MB
busybox                   latest    a4a4a4a4a4a4   3 weeks ago          4.26MB
<none>                    <none>    0d0d0d0d0d0d   About a minute ago   999B
"""


def test_images_table(daemon: FakeDaemon) -> None:
    for argv in (["images"], ["image", "ls"], ["image", "list"]):
        r = sampan(*argv)
        assert (r.status, r.out, r.err) == (0, IMAGES_TABLE, "")


def test_images_digests_quiet_notrunc(daemon: FakeDaemon) -> None:
    lines = sampan("images", "--digests").out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines[1].split()[2] == "sha256:" + "aa" * 32
    assert lines[2].split()[2] == "<none>"
    assert sampan("images", "-q").out.split() == ["5e5e5e5e5e5e", "5e5e5e5e5e5e", "a4a4a4a4a4a4", "0d0d0d0d0d0d"]
    assert samples.BUSYBOX_ID in sampan("images", "--no-trunc").out


def test_images_formats(daemon: FakeDaemon) -> None:
    r = sampan("images", "--format", "table {{.ID}}\\t{{.Tag}}")
    assert r.out.splitlines()[:2] == ["IMAGE ID       TAG", "5e5e5e5e5e5e   v1"]
    rows = [json.loads(line) for line in sampan("images", "--format", "json").out.splitlines()]
    assert rows[2]["Repository"] == "busybox" and rows[2]["Size"] == "4.26MB"
    assert rows[3]["Tag"] == "<none>" and rows[0]["VirtualSize"] == "12.35MB"
    assert sorted(rows[0]) == sorted(["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository",
                                      "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"])
    assert sampan("images", "--format", "{{.Repository}}:{{.Tag}}").out.splitlines()[2] == "busybox:latest"
    r = sampan("images", "--format", "{{.Bogus}}")
    assert r.status == 1 and r.err.startswith("template parsing error: ")
    assert "can't evaluate field Bogus" in r.err


def test_images_filters_and_reference(daemon: FakeDaemon) -> None:
    sampan("images", "-a", "-f", "dangling=true", "-f", "label=x", "busybox")
    req = daemon.find("GET", "/images/json")[-1]
    assert req.query["all"] == ["1"]
    assert json.loads(req.query["filters"][0]) == {"dangling": ["true"], "label": ["x"], "reference": ["busybox"]}


def test_images_format_from_config(daemon: FakeDaemon) -> None:
    with open(os.path.join(os.environ["DOCKER_CONFIG"], "config.json"), "w") as f:
        json.dump({"imagesFormat": "{{.Repository}}"}, f)
    assert sampan("images").out.splitlines()[1] == "app"
    assert sampan("images", "-q").out.split()[0] == "5e5e5e5e5e5e"


def test_image_inspect(daemon: FakeDaemon) -> None:
    r = sampan("image", "inspect", "busybox")
    assert r.status == 0 and r.out.startswith('[\n    {\n        "Id": "sha256:a4a4')
    assert '"a": "\\u003cb\\u003e"' in r.out
    assert json.loads(r.out)[0]["Config"]["Labels"] == {"a": "<b>"}
    r = sampan("image", "inspect", "-f", "{{.Id}} {{json .RootFS.Layers}}", "busybox", "busybox:latest")
    assert r.out == f'{samples.BUSYBOX_ID} ["sha256:{"11" * 32}"]\n' * 2
    r = sampan("image", "inspect", "nope")
    assert (r.status, r.out, r.err) == (1, "[]\n", "Error: No such image: nope\n")
    r = sampan("inspect", "busybox", "nope")
    assert r.status == 1 and json.loads(r.out)[0]["Id"] == samples.BUSYBOX_ID
    assert r.err == "Error: No such object: nope\n"
    assert sampan("inspect", "--type", "image", "nope").err == "Error: No such image: nope\n"
    assert sampan("inspect", "--format", "{{.Os}}", "busybox").out == "linux\n"
    assert sampan("inspect", "-f", "{{json .Config.Labels}}", "busybox").out == '{"a":"<b>"}\n'
    assert sampan("inspect", "-f", "{{.GraphDriver.Data}}", "busybox").out == "map[]\n"
    compact = sampan("image", "inspect", "--format", "json", "busybox").out
    assert compact.startswith('[{"Id":"sha256:a4') and '"Labels":{"a":"<b>"}' in compact


HISTORY_TABLE = "".join([  # docker pads the empty last COMMENT cell: the trailing spaces are real
    "IMAGE          CREATED             CREATED BY                                      SIZE      COMMENT\n",
    'a4a4a4a4a4a4   About an hour ago   /bin/sh -c #(nop)  CMD ["sh"]                   0B        \n',
    "<missing>      2 hours ago         /bin/sh -c #(nop) ADD file:7e9002edaafd4e457…   4.26MB    "
    "buildkit.dockerfile.v0\n",
])


def test_history(daemon: FakeDaemon) -> None:
    assert sampan("history", "busybox").out == HISTORY_TABLE
    assert sampan("image", "history", "-q", "busybox").out == "a4a4a4a4a4a4\n<missing>\n"
    r = sampan("history", "--no-trunc", "-H=false", "busybox")
    assert "ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7 in /" in r.out
    assert " 4261550 " in r.out and samples.BUSYBOX_ID in r.out
    assert r.out.split()[:3] == ["IMAGE", "CREATED", "AT"]
    assert sampan("history", "nope").status == 1


def test_tag(daemon: FakeDaemon) -> None:
    daemon.route("POST", "/images/.*/tag", status=201, body=b"")
    assert sampan("tag", "busybox", "localhost:5000/me/bb:v2").status == 0
    assert sampan("image", "tag", "busybox", "me/bb").status == 0
    reqs = daemon.find("POST", "/images/busybox/tag")
    assert [r.query for r in reqs] == [{"repo": ["localhost:5000/me/bb"], "tag": ["v2"]},
                                       {"repo": ["docker.io/me/bb"], "tag": ["latest"]}]
    r = sampan("tag", "busybox", "Bad")
    assert r.status == 1 and r.err.startswith('Error parsing reference: "Bad" is not a valid repository/tag')
    r = sampan("tag", "busybox", "x@sha256:" + "a" * 64)
    assert r.err == "refusing to create a tag with a digest reference\n"


def test_rmi(daemon: FakeDaemon) -> None:
    daemon.route("DELETE", "/images/.*", status=404, json={"message": "No such image: nope:latest"})
    daemon.route("DELETE", "/images/busybox", json=[{"Untagged": "busybox:latest"},
                                                    {"Deleted": samples.BUSYBOX_ID}])
    r = sampan("rmi", "-f", "nope", "busybox")
    assert r.status == 1
    assert r.out == f"Untagged: busybox:latest\nDeleted: {samples.BUSYBOX_ID}\n"
    assert r.err == "Error response from daemon: No such image: nope:latest\n"
    assert daemon.find("DELETE", "/images/busybox")[0].query == {"force": ["1"]}
    r = sampan("image", "rm", "--no-prune", "busybox")
    assert r.status == 0 and daemon.find("DELETE", "/images/busybox")[1].query == {"noprune": ["1"]}


def test_prune(daemon: FakeDaemon) -> None:
    daemon.route("POST", "/images/prune", json={
        "ImagesDeleted": [{"Untagged": "x:1"}, {"Deleted": samples.DANGLING_ID}], "SpaceReclaimed": 1234567})
    r = sampan("image", "prune", stdin="n\n")
    assert r.out == ("WARNING! This will remove all dangling images.\n"
                     "Are you sure you want to continue? [y/N] ")
    assert r.status == 0 and not daemon.find("POST", "/images/prune")
    r = sampan("image", "prune", "-a", "--filter", "until=1h", stdin="y\n")
    assert r.out == (
        "WARNING! This will remove all images without at least one container associated to them.\n"
        "Are you sure you want to continue? [y/N] Deleted Images:\nuntagged: x:1\n"
        f"deleted: {samples.DANGLING_ID}\n\nTotal reclaimed space: 1.235MB\n")
    assert json.loads(daemon.find("POST", "/images/prune")[0].query["filters"][0]) == {
        "until": ["1h"], "dangling": ["false"]}
    daemon.route("POST", "/images/prune", json={"ImagesDeleted": None, "SpaceReclaimed": 0})
    assert sampan("image", "prune", "-f").out == "Total reclaimed space: 0B\n"


PULL_PLAIN = f"""\
Using default tag: latest
latest: Pulling from library/busybox
a46fbb00284b: Pulling fs layer
b3c1d2e4f5a6: Pulling fs layer
a46fbb00284b: Verifying Checksum
a46fbb00284b: Download complete
b3c1d2e4f5a6: Verifying Checksum
b3c1d2e4f5a6: Download complete
a46fbb00284b: Pull complete
b3c1d2e4f5a6: Pull complete
Digest: {samples.BUSYBOX_DIGEST}
Status: Downloaded newer image for busybox:latest
docker.io/library/busybox:latest
"""


def test_pull(daemon: FakeDaemon) -> None:
    r = sampan("pull", "busybox")
    assert (r.status, r.out, r.err) == (0, PULL_PLAIN, "")
    assert daemon.find("POST", "/images/create")[0].query == {
        "fromImage": ["docker.io/library/busybox"], "tag": ["latest"]}
    assert sampan("pull", "-q", "localhost:5000/a/b:v1").out == "localhost:5000/a/b:v1\n"
    digest = "sha256:" + "ab" * 32
    r = sampan("image", "pull", "--platform", "linux/arm64", f"busybox@{digest}")
    assert r.out.splitlines()[-1] == f"docker.io/library/busybox@{digest}"
    assert daemon.find("POST", "/images/create")[-1].query == {
        "fromImage": ["docker.io/library/busybox"], "tag": [digest], "platform": ["linux/arm64"]}
    assert "x-registry-auth" not in daemon.find("POST", "/images/create")[0].headers


def test_pull_errors(daemon: FakeDaemon) -> None:
    daemon.route("POST", "/images/create", Reply(stream=[
        {"status": "Pulling from library/busybox", "id": "1"},
        {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}]))
    r = sampan("pull", "busybox:1")
    assert (r.status, r.out, r.err) == (1, "1: Pulling from library/busybox\n", "manifest unknown\n")
    daemon.route("POST", "/images/create", status=404,
                 json={"message": "pull access denied for nothing, repository does not exist"})
    r = sampan("pull", "nothing")
    assert r.status == 1
    assert r.err == "Error response from daemon: pull access denied for nothing, repository does not exist\n"
    r = sampan("pull", "Upper")
    assert r.status == 1 and "must be lowercase" in r.err
    assert sampan("pull", "-a", "busybox").status == 1


def test_pull_sends_registry_auth_from_config(daemon: FakeDaemon) -> None:
    auth = base64.b64encode(b"alice:pw").decode()
    with open(os.path.join(os.environ["DOCKER_CONFIG"], "config.json"), "w") as f:
        json.dump({"auths": {"localhost:5000": {"auth": auth}}}, f)
    sampan("pull", "localhost:5000/private/app")
    header = daemon.find("POST", "/images/create")[0].headers["x-registry-auth"]
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        "username": "alice", "password": "pw", "serveraddress": "localhost:5000"}


def test_version_and_info(daemon: FakeDaemon) -> None:
    r = sampan("version")
    assert r.status == 0
    assert " API version:       1.44\n" in r.out
    assert "Server: sampan engine\n Engine:\n  Version:          0.1.0\n" in r.out
    assert "  API version:      1.44 (minimum version 1.24)\n" in r.out
    assert "  Built:            Thu Jan  1 00:00:00 2026\n" in r.out
    assert " runc:\n  Version:          1.1.5\n  GitCommit:        v1.1.5-0-gf19387a" in r.out
    assert sampan("version", "--format", "{{.Server.Version}} {{.Client.APIVersion}}").out == "0.1.0 1.44\n"
    assert json.loads(sampan("version", "-f", "json").out)["Server"]["MinAPIVersion"] == "1.24"
    r = sampan("info")
    assert r.out.startswith("Client:\n Version:    0.1.0\n Context:    default\n Debug Mode: false\n\nServer:\n")
    assert " Containers: 3\n  Running: 1\n" in r.out and " Total Memory: 3.844GiB\n" in r.out
    assert " Insecure Registries:\n  127.0.0.0/8\n" in r.out
    assert sampan("info", "--format", "{{.NCPU}} {{.ClientInfo.Context}}").out == "2 default\n"
    assert sampan("system", "info", "-f", "{{.Name}}").out == "host1\n"


def test_no_daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    host = f"unix://{os.fspath(tmp_path)}/none.sock"
    message = f"Cannot connect to the Docker daemon at {host}. Is the docker daemon running?\n"
    r = sampan("-H", host, "images")
    assert (r.status, r.out, r.err) == (1, "", message)
    r = sampan("-H", host, "info")
    assert (r.status, r.err) == (1, message) and r.out.endswith("Debug Mode: false\n\nServer:\n")
    r = sampan("--host", host, "version")
    assert r.status == 1 and r.out.startswith("Client: sampan\n") and r.err == message


def test_grammar_help_and_errors(daemon: FakeDaemon) -> None:
    r = sampan("bogus")
    assert (r.status, r.err) == (1, "sampan: 'bogus' is not a sampan command.\nSee 'sampan --help'\n")
    assert sampan("image", "bogus").err.startswith("sampan: 'image bogus' is not a sampan command.")
    r = sampan("images", "--bogus")
    assert (r.status, r.err) == (125, "unknown flag: --bogus\nSee 'sampan images --help'.\n")
    r = sampan("image", "inspect")
    assert r.status == 1 and r.err.startswith("sampan: 'sampan image inspect' requires at least 1 argument\n")
    r = sampan("--help")
    assert r.status == 0 and "Usage:  sampan [OPTIONS] COMMAND" in r.out and "  pull " in r.out
    assert sampan().out == r.out
    r = sampan("images", "--help")
    assert "Aliases:\n  sampan images, sampan image ls, sampan image list" in r.out
    assert sampan("-v").out.startswith("sampan version 0.1.0, build ")
    r = sampan("image")
    assert r.status == 0 and "Usage:  sampan image COMMAND" in r.err
    r = sampan("--bogus")
    assert (r.status, r.err) == (125, "unknown flag: --bogus\nSee 'sampan --help'.\n")
