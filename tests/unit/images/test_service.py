"""The image service on real stores with an in-memory registry: pull, names, rmi, prune."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from sampan.api.progress import JSONMessage
from sampan.daemon.images.service import ImageService
from sampan.errdefs import Conflict, DataLoss, InvalidArgument, NotFound
from tests.support.images import Entry, Image, build_image, build_index, busybox_entries, make_layer
from tests.unit.images.fakes import FakeRegistry, make_service, statuses

BASE = make_layer(busybox_entries(("sh", "true")))


def app_image(text: bytes = b"hi\n", **kw: object) -> Image:
    top = make_layer([Entry("app", "dir"), Entry("app/hello.txt", data=text)])
    return build_image([BASE, top], **kw)  # type: ignore[arg-type]


@pytest.fixture
def reg() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def svc(tmp_path, reg: FakeRegistry) -> Iterator[ImageService]:  # type: ignore[no-untyped-def]
    s = make_service(str(tmp_path), reg)
    yield s
    s.close()


def pull(svc: ImageService, ref: str, platform: str | None = None) -> list[JSONMessage]:
    msgs: list[JSONMessage] = []
    svc.pull(ref, platform=platform, auth=None, progress=msgs.append)
    return msgs


def test_pull_progress_like_docker(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    reg.push("library/app", "latest", img)
    msgs = pull(svc, "app")
    s = statuses(msgs)
    ids = [d.split(":")[1][:12] for d in json.loads(img.manifest)["layers"] and
           [x["digest"] for x in json.loads(img.manifest)["layers"]]]
    assert s[0] == ("Pulling from library/app", "latest")
    for i in ids:
        assert ("Pulling fs layer", i) in s and ("Pull complete", i) in s and ("Download complete", i) in s
    assert s.index(("Pull complete", ids[0])) < s.index(("Pull complete", ids[1]))
    assert s[-2] == (f"Digest: {img.digest}", "")
    assert s[-1] == ("Status: Downloaded newer image for app:latest", "")
    again = statuses(pull(svc, "docker.io/library/app:latest"))
    assert again[1:3] == [("Already exists", ids[0]), ("Already exists", ids[1])]
    assert again[-1] == ("Status: Image is up to date for app:latest", "")
    info = svc.inspect_image("app").to_json()
    assert info["Id"] == img.image_id and info["RootFS"]["Layers"] == img.diff_ids
    assert info["RepoTags"] == ["app:latest"] and info["RepoDigests"] == [f"app@{img.digest}"]
    assert info["GraphDriver"]["Name"] == "vfs" or info["GraphDriver"]["Name"]


def test_pull_by_digest_and_platform(svc: ImageService, reg: FakeRegistry) -> None:
    amd = app_image(b"amd\n")
    arm = app_image(b"arm\n", architecture="arm64")
    index = build_index([(amd, {"os": "linux", "architecture": "amd64"}),
                         (arm, {"os": "linux", "architecture": "arm64"})])
    reg.push_index("library/multi", "latest", index)
    pull(svc, "multi", platform="linux/arm64")
    assert svc.inspect_image("multi").id == arm.image_id
    assert svc.inspect_image(f"multi@{index.digest}").id == arm.image_id
    msgs = pull(svc, f"multi@{amd.digest}")
    assert statuses(msgs)[0] == ("Pulling from library/multi", amd.digest)
    assert statuses(msgs)[-1] == (f"Status: Downloaded newer image for multi@{amd.digest}", "")
    assert svc.inspect_image(f"multi@{amd.digest}").id == amd.image_id
    assert svc.inspect_image("multi:latest").id == arm.image_id


def test_name_resolution(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    reg.push("library/app", "v1", img)
    pull(svc, "app:v1")
    hexid = img.image_id[7:]
    for name in (img.image_id, hexid, hexid[:12], hexid[:3], "sha256:" + hexid[:8], "app:v1",
                 "docker.io/library/app:v1", f"app@{img.digest}"):
        assert svc.resolve_image(name).id == img.image_id
    with pytest.raises(NotFound, match=r"^No such image: app:latest$"):
        svc.inspect_image("app")
    with pytest.raises(NotFound, match=r"^No such image: nope:none$"):
        svc.inspect_image("nope:none")
    rec = svc.resolve_image("app:v1")
    assert rec.chain_id is not None and list(rec.diff_ids) == img.diff_ids and rec.repo_tags == ("app:v1",)


def test_ambiguous_short_id_is_not_found(svc: ImageService, reg: FakeRegistry) -> None:
    imgs = [app_image(bytes([i])) for i in range(20)]
    for i, img in enumerate(imgs):
        reg.push("library/many", str(i), img)
        pull(svc, f"many:{i}")
    firsts = [img.image_id[7] for img in imgs]
    dup = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(NotFound):
        svc.inspect_image(dup)


def test_list_filters(svc: ImageService, reg: FakeRegistry) -> None:
    old = app_image(b"1", created="2020-01-01T00:00:00Z", labels={"tier": "web"})
    new = app_image(b"2", created="2023-01-01T00:00:00Z")
    reg.push("library/busybox", "latest", old)
    reg.push("me/app", "1.0", new)
    pull(svc, "busybox")
    pull(svc, "me/app:1.0")

    def tags(**filters: list[str]) -> list[list[str]]:
        return [i.repo_tags for i in svc.list_images(filters=filters)]

    assert tags() == [["me/app:1.0"], ["busybox:latest"]]  # newest first
    assert tags(reference=["busy*"]) == [["busybox:latest"]]
    assert tags(reference=["*/app:1*"]) == [["me/app:1.0"]]
    assert tags(label=["tier=web"]) == [["busybox:latest"]]
    assert tags(before=["me/app:1.0"]) == [["busybox:latest"]]
    assert tags(since=["busybox"]) == [["me/app:1.0"]]
    assert tags(until=["2021-01-01T00:00:00Z"]) == [["busybox:latest"]]
    assert tags(dangling=["true"]) == []
    with pytest.raises(InvalidArgument, match="invalid filter 'x'"):
        svc.list_images(filters={"x": ["1"]})
    summary = svc.list_images(filters={"reference": ["busybox"]})[0].to_json()
    assert summary["RepoDigests"] == [f"busybox@{old.digest}"]  # digests match by name, as in dockerd
    assert summary["SharedSize"] == -1 and summary["Containers"] == -1
    only_tags = svc.list_images(filters={"reference": ["busybox:*"]})[0].to_json()
    assert only_tags["RepoDigests"] == [] and only_tags["RepoTags"] == ["busybox:latest"]
    assert summary["Labels"] == {"tier": "web"} and summary["Created"] == 1577836800


def test_history(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image(extra_config={"history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD base"},
        {"created": "2024-01-02T00:00:00Z", "created_by": "ENV x=1", "empty_layer": True},
        {"created": "2024-01-03T00:00:00Z", "created_by": "COPY app", "comment": "c"},
    ]})
    reg.push("library/h", "latest", img)
    pull(svc, "h")
    hist = [h.to_json() for h in svc.image_history("h")]
    assert [h["CreatedBy"] for h in hist] == ["COPY app", "ENV x=1", "ADD base"]
    assert hist[0]["Id"] == img.image_id and hist[0]["Tags"] == ["h:latest"] and hist[0]["Comment"] == "c"
    assert hist[1]["Id"] == "<missing>" and hist[1]["Tags"] is None and hist[1]["Size"] == 0
    assert hist[2]["Size"] > 0 and hist[2]["Created"] == 1704067200


def test_tag_and_rmi_flows(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    reg.push("library/busybox", "latest", img)
    pull(svc, "busybox")
    svc.tag_image("busybox", "busybox", "other")
    assert [d.to_json() for d in svc.delete_image("busybox:latest")] == [{"Untagged": "busybox:latest"}]
    svc.tag_image(img.image_id, "localhost:5000/x", "")
    with pytest.raises(Conflict, match=rf"unable to delete {img.image_id[7:19]} \(must be forced\) - "
                                       "image is referenced in multiple repositories"):
        svc.delete_image(img.image_id[7:19])
    with pytest.raises(InvalidArgument, match="invalid tag format"):
        svc.tag_image("busybox:other", "x", "bad tag")
    with pytest.raises(NotFound, match="No such image: gone:latest"):
        svc.delete_image("gone")
    out = [d.to_json() for d in svc.delete_image(img.image_id, force=True)]
    assert {"Untagged": "busybox:other"} in out and {"Untagged": "localhost:5000/x:latest"} in out
    assert {"Untagged": f"busybox@{img.digest}"} in out
    assert out[-3] == {"Deleted": img.image_id}
    assert len([d for d in out if "Deleted" in d]) == 3  # the image and both layers
    assert svc.image_count() == 0 and list(svc.snapshots.walk()) == []
    assert not svc.content.has(img.image_id)


def test_rmi_last_tag_takes_repo_digests_and_deletes(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    reg.push("library/busybox", "latest", img)
    pull(svc, "busybox")
    out = [d.to_json() for d in svc.delete_image("busybox", noprune=True)]
    assert out == [{"Untagged": "busybox:latest"}, {"Untagged": f"busybox@{img.digest}"},
                   {"Deleted": img.image_id}]
    assert len(list(svc.snapshots.walk())) == 2  # noprune keeps the layers
    report = svc.prune_images().to_json()  # orphaned layers go with the next prune
    assert len(report["ImagesDeleted"]) == 2 and report["SpaceReclaimed"] > 0
    assert list(svc.snapshots.walk()) == []


def test_rmi_keeps_shared_layers(svc: ImageService, reg: FakeRegistry) -> None:
    a, b = app_image(b"a"), app_image(b"b")
    reg.push("library/a", "latest", a)
    reg.push("library/b", "latest", b)
    pull(svc, "a")
    s = statuses(pull(svc, "b"))
    assert s[1][0] == "Already exists"
    out = [d.to_json() for d in svc.delete_image("a")]
    assert len([d for d in out if "Deleted" in d]) == 2  # the image and its top layer only
    assert svc.inspect_image("b").id == b.image_id
    assert len(list(svc.snapshots.walk())) == 2


def test_prune_dangling_and_all(svc: ImageService, reg: FakeRegistry) -> None:
    one, two = app_image(b"1"), app_image(b"2", labels={"keep": "no"})
    reg.push("library/x", "latest", one)
    pull(svc, "x")
    reg.push("library/x", "latest", two)
    pull(svc, "x")  # the tag moves: the first image keeps only its digest and is dangling
    dangling = svc.list_images(filters={"dangling": ["true"]})
    assert [i.id for i in dangling] == [one.image_id] and dangling[0].repo_tags == []
    report = svc.prune_images()
    assert {"Deleted": one.image_id} in [d.to_json() for d in report.deleted]
    assert svc.image_count() == 1
    assert svc.prune_images({"label": ["keep=yes"], "dangling": ["false"]}).to_json()["ImagesDeleted"] is None
    report = svc.prune_images({"dangling": ["false"]})
    assert {"Deleted": two.image_id} in [d.to_json() for d in report.deleted]
    assert svc.image_count() == 0
    with pytest.raises(InvalidArgument):
        svc.prune_images({"reference": ["x"]})


def test_blob_digest_mismatch_stores_nothing(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    top = json.loads(img.manifest)["layers"][1]["digest"]
    blob = bytearray(img.blobs[top])
    blob[-5] ^= 0xFF  # inside the gzip trailer's CRC: decompression may even succeed
    reg.corrupt[top] = bytes(blob)
    reg.push("library/bad", "latest", img)
    with pytest.raises(DataLoss):
        pull(svc, "bad")
    assert svc.image_count() == 0 and not svc.content.has(top)
    assert all(s.kind == "committed" for s in svc.snapshots.walk())


def test_diff_id_mismatch_leaves_no_snapshot(svc: ImageService, reg: FakeRegistry) -> None:
    wrong = app_image(extra_config={"rootfs": {"type": "layers", "diff_ids": [BASE.diff_id, "sha256:" + "0" * 64]}})
    reg.push("library/lie", "latest", wrong)
    with pytest.raises(DataLoss, match="diff ID"):
        pull(svc, "lie")
    assert svc.image_count() == 0
    assert [s.kind for s in svc.snapshots.walk()] == ["committed"]  # only the good base layer


def test_unknown_layer_media_type(svc: ImageService, reg: FakeRegistry) -> None:
    layer = make_layer([Entry("f", data=b"x")])
    layer.media_type = "application/x-weird"
    reg.push("library/odd", "latest", build_image([layer]))
    with pytest.raises(InvalidArgument, match="unsupported media type"):
        pull(svc, "odd")
    assert svc.image_count() == 0 and list(svc.snapshots.walk()) == []


def test_missing_manifest(svc: ImageService) -> None:
    with pytest.raises(NotFound):
        pull(svc, "nothing")


def test_concurrent_pulls_fetch_each_blob_once(svc: ImageService, reg: FakeRegistry) -> None:
    img = build_image([BASE] + [make_layer([Entry(f"f{i}", data=bytes([i]) * 100_000)]) for i in range(5)])
    reg.push("library/c", "latest", img)
    reg.delay = 0.05
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pull(svc, "c")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    layers = [x["digest"] for x in json.loads(img.manifest)["layers"]]
    assert all(reg.blob_gets[d] == 1 for d in layers), reg.blob_gets
    assert svc.inspect_image("c").id == img.image_id


def test_reopen_recovers_after_half_extraction(tmp_path, reg: FakeRegistry) -> None:  # type: ignore[no-untyped-def]
    svc = make_service(str(tmp_path), reg)
    svc.snapshots.prepare("extract-deadbeef-1234", None)
    svc.close()
    svc = make_service(str(tmp_path), reg)
    svc.recover()
    assert list(svc.snapshots.walk()) == []
    svc.close()


def test_repeated_layer_and_empty_image(svc: ImageService, reg: FakeRegistry) -> None:
    empty = make_layer([])
    img = build_image([BASE, empty, make_layer([Entry("x", data=b"x")]), empty])
    reg.push("library/dup", "latest", img)
    pull(svc, "dup")
    assert svc.inspect_image("dup").to_json()["RootFS"]["Layers"] == img.diff_ids
    bare = build_image([])
    reg.push("library/bare", "latest", bare)
    pull(svc, "bare")
    rec = svc.resolve_image("bare")
    assert rec.chain_id is None and rec.diff_ids == ()


def test_reopen_drops_unrecorded_layer_snapshots(tmp_path, reg: FakeRegistry) -> None:  # type: ignore[no-untyped-def]
    img = app_image()
    reg.push("library/app", "latest", img)
    svc = make_service(str(tmp_path), reg)
    pull(svc, "app")
    svc.snapshots.prepare("k", None)
    svc.snapshots.commit("sha256:" + "e" * 64, "k")  # as if killed between commit and record
    svc.close()
    svc = make_service(str(tmp_path), reg)
    svc.recover()
    assert not svc.snapshots.exists("sha256:" + "e" * 64)
    assert svc.inspect_image("app").id == img.image_id
    svc.close()


def test_platform_mismatch_on_a_single_manifest(svc: ImageService, reg: FakeRegistry) -> None:
    reg.push("library/one", "latest", app_image())
    with pytest.raises(NotFound, match="does not match the specified platform: wanted linux/arm64"):
        pull(svc, "one", platform="linux/arm64")
    assert svc.image_count() == 0
    pull(svc, "one", platform="linux/amd64")
    assert svc.image_count() == 1


def test_rmi_during_a_pull_keeps_the_layers_it_needs(svc: ImageService, reg: FakeRegistry) -> None:
    a, b = app_image(b"a"), app_image(b"b" * 200_000)
    reg.push("library/a", "latest", a)
    reg.push("library/b", "latest", b)
    pull(svc, "a")
    reg.delay = 0.3  # b's top layer download is slow; its base is already there
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pull(svc, "b")
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.1)
    out = [d.to_json() for d in svc.delete_image("a")]
    t.join()
    assert not errors
    assert len([d for d in out if "Deleted" in d]) == 2  # a and its top layer; the base is leased
    assert svc.resolve_image("b").chain_id is not None
    assert len(list(svc.snapshots.walk())) == 2


def test_rmi_by_id_of_a_single_reference_untags_it(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    reg.push("library/one", "latest", img)
    pull(svc, "one")
    out = [d.to_json() for d in svc.delete_image(img.image_id[7:19])]
    assert out[:3] == [{"Untagged": "one:latest"}, {"Untagged": f"one@{img.digest}"}, {"Deleted": img.image_id}]
    pull(svc, "one")
    svc.tag_image("one", "one", "two")  # two tags, even in one repository, need force by ID
    with pytest.raises(Conflict, match="must be forced"):
        svc.delete_image(img.image_id)
    assert svc.delete_image("one@" + img.digest)[0].to_json() == {"Untagged": f"one@{img.digest}"}


def test_rmi_conflicts_with_containers(svc: ImageService, reg: FakeRegistry) -> None:
    img = app_image()
    reg.push("library/used", "latest", img)
    pull(svc, "used")
    users: list[tuple[str, bool]] = [("c" * 64, True)]
    svc.set_container_users(lambda image_id: users if image_id == img.image_id else [])
    short = img.image_id[7:19]
    with pytest.raises(Conflict, match=rf"unable to delete {short} \(cannot be forced\) - "
                                       rf"image is being used by running container {'c' * 12}"):
        svc.delete_image(img.image_id, force=True)
    users[0] = ("d" * 64, False)
    with pytest.raises(Conflict, match=r"\(must be forced\) - image is being used by stopped container d{12}"):
        svc.delete_image(img.image_id)
    svc.tag_image("used", "other", "1")
    # by name, the last tag goes but the image stays for its container
    assert [d.to_json() for d in svc.delete_image("other:1")] == [{"Untagged": "other:1"}]
    out = [d.to_json() for d in svc.delete_image("used")]
    assert out == [{"Untagged": "used:latest"}, {"Untagged": f"used@{img.digest}"}]
    assert svc.image_count() == 1
    assert svc.prune_images({"dangling": ["true"]}).to_json()["ImagesDeleted"] is None
    out = [d.to_json() for d in svc.delete_image(img.image_id, force=True)]
    assert out[0] == {"Deleted": img.image_id}


def test_a_known_blob_on_a_new_parent_is_not_downloaded_again(svc: ImageService, reg: FakeRegistry) -> None:
    top = make_layer([Entry("shared", data=b"s" * 50_000)])
    other_base = make_layer([Entry("other", data=b"o")])
    a, b = build_image([BASE, top]), build_image([other_base, top])
    reg.push("library/a", "latest", a)
    reg.push("library/b", "latest", b)
    pull(svc, "a")
    pull(svc, "b")
    top_digest = json.loads(a.manifest)["layers"][1]["digest"]
    assert reg.blob_gets[top_digest] == 1
    assert svc.inspect_image("b").to_json()["RootFS"]["Layers"] == b.diff_ids
    assert len(list(svc.snapshots.walk())) == 4  # same diff, two chains
