"""Pulls against the real registry with real snapshots (overlay when available)."""

from __future__ import annotations

import json
import os
import tempfile
import threading

import pytest

from sampan.api.progress import JSONMessage
from sampan.daemon.images.service import ImageService
from sampan.snapshot import mount_all, unmount_all
from sampan.store.content import ContentStore
from tests.integration.images.conftest import Repo
from tests.support.images import Entry, build_image, build_index, busybox_entries, make_layer

pytestmark = pytest.mark.root

BASE = make_layer(busybox_entries(("sh", "cat", "ls")))


def pull(svc: ImageService, ref: str, platform: str | None = None) -> list[dict[str, object]]:
    msgs: list[JSONMessage] = []
    svc.pull(ref, platform=platform, auth=None, progress=msgs.append)
    return [m.to_json() for m in msgs]


def merged_listing(svc: ImageService, name: str) -> dict[str, bytes | None]:
    """Mount the image's top layer read-only and read its whole tree (files -> bytes)."""
    rec = svc.resolve_image(name)
    key = f"test-view-{os.getpid()}-{threading.get_ident()}"
    mounts = svc.snapshots.view(key, rec.chain_id)
    target = tempfile.mkdtemp(prefix="sampan-view-")
    mount_all(mounts, target)
    try:
        out: dict[str, bytes | None] = {}
        for dirpath, dirnames, filenames in os.walk(target):
            for d in dirnames:
                out[os.path.relpath(os.path.join(dirpath, d), target) + "/"] = None
            for f in filenames:
                p = os.path.join(dirpath, f)
                rel = os.path.relpath(p, target)
                if os.path.islink(p):
                    out[rel] = None
                else:
                    with open(p, "rb") as fh:
                        out[rel] = fh.read()
        return out
    finally:
        unmount_all(target)
        os.rmdir(target)
        svc.snapshots.remove(key)


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_pull_ids_match_config(service: ImageService, repo: Repo, fmt: str) -> None:
    img = build_image([BASE, make_layer([Entry("etc/motd", data=b"hello\n")])], fmt=fmt)
    ref = repo.push(img)
    msgs = pull(service, ref)
    assert msgs[-1] == {"status": f"Status: Downloaded newer image for {ref}"}
    assert msgs[-2] == {"status": f"Digest: {img.digest}"}
    info = service.inspect_image(ref).to_json()
    assert info["Id"] == img.image_id and info["RootFS"]["Layers"] == img.diff_ids
    assert info["RepoDigests"] == [f"{ref.rsplit(':', 1)[0]}@{img.digest}"]
    assert merged_listing(service, ref)["etc/motd"] == b"hello\n"
    again = pull(service, ref)
    assert [m["status"] for m in again[1:3]] == ["Already exists", "Already exists"]
    assert again[-1] == {"status": f"Status: Image is up to date for {ref}"}


@pytest.mark.parametrize("driver", ["overlay", "native"])
def test_whiteouts_and_opaque_dirs(tmp_path, repo: Repo, driver: str) -> None:  # type: ignore[no-untyped-def]
    service = ImageService.open(str(tmp_path / "root"), storage_driver=driver)
    try:
        _whiteouts(service, repo)
    finally:
        service.close()


def _whiteouts(service: ImageService, repo: Repo) -> None:
    l1 = make_layer([Entry("a", "dir"), Entry("a/1", data=b"1"), Entry("a/2", data=b"2"),
                     Entry("d", "dir"), Entry("d/x", data=b"x"), Entry("d/sub", "dir"),
                     Entry("d/sub/deep", data=b"deep")])
    l2 = make_layer([Entry("a", "dir"), Entry("a/.wh.1"), Entry("d", "dir"), Entry("d/.wh..wh..opq"),
                     Entry("d/y", data=b"y")])
    l3 = make_layer([Entry("a", "dir"), Entry("a/3", data=b"3"), Entry("a/.wh.2"), Entry("e", "dir")])
    ref = repo.push(build_image([l1, l2, l3]))
    pull(service, ref)
    tree = merged_listing(service, ref)
    assert tree["a/3"] == b"3" and "a/1" not in tree and "a/2" not in tree
    assert tree["d/y"] == b"y" and "d/x" not in tree and "d/sub/" not in tree
    assert "e/" in tree and not any(".wh." in k for k in tree)


def test_manifest_list_platforms(service: ImageService, repo: Repo) -> None:
    amd = build_image([BASE, make_layer([Entry("arch", data=b"amd64")])])
    arm = build_image([BASE, make_layer([Entry("arch", data=b"arm64")])], architecture="arm64")
    index = build_index([(amd, {"os": "linux", "architecture": "amd64"}),
                         (arm, {"os": "linux", "architecture": "arm64"})], fmt="docker")
    ref = repo.push_index(index)
    pull(service, ref)
    assert service.inspect_image(ref).id == amd.image_id
    assert service.inspect_image(ref).to_json()["RepoDigests"][0].endswith(index.digest)
    msgs = pull(service, ref, platform="linux/arm64")
    assert msgs[1]["status"] == "Already exists"  # the shared base layer
    info = service.inspect_image(ref).to_json()
    assert info["Id"] == arm.image_id and info["Architecture"] == "arm64"
    assert merged_listing(service, ref)["arch"] == b"arm64"


def test_zstd_and_uncompressed_layers(service: ImageService, repo: Repo) -> None:
    img = build_image([make_layer(busybox_entries(("sh",)), "zstd"),
                       make_layer([Entry("plain", data=b"p" * 1000)], "")])
    ref = repo.push(img)
    pull(service, ref)
    tree = merged_listing(service, ref)
    assert tree["plain"] == b"p" * 1000 and "bin/busybox" in tree
    assert service.inspect_image(ref).to_json()["RootFS"]["Layers"] == img.diff_ids


def test_shared_base_stored_once_and_rmi(service: ImageService, repo: Repo) -> None:
    a = build_image([BASE, make_layer([Entry("a", data=b"a")])])
    b = build_image([BASE, make_layer([Entry("b", data=b"b")])])
    ref_a, ref_b = repo.push(a, "a"), repo.push(b, "b")
    pull(service, ref_a)
    msgs = pull(service, ref_b)
    assert msgs[1]["status"] == "Already exists"
    assert len([s for s in service.snapshots.walk() if s.kind == "committed"]) == 3
    out = [d.to_json() for d in service.delete_image(ref_a)]
    assert {"Deleted": a.image_id} in out and len(out) == 4  # untag, digest, image, top layer
    assert len(list(service.snapshots.walk())) == 2
    service.tag_image(ref_b, "local/b", "v1")
    assert service.delete_image("local/b:v1")[0].to_json() == {"Untagged": "local/b:v1"}
    report = service.prune_images({"dangling": ["false"]})
    assert report.space_reclaimed > 0 and service.image_count() == 0
    assert list(service.snapshots.walk()) == []
    assert list(service.content.list()) == []  # type: ignore[attr-defined,unused-ignore]  # configs, layers went


def test_concurrent_pulls_download_each_blob_once(tmp_path, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    layers = [BASE] + [make_layer([Entry(f"f{i}", data=os.urandom(300_000))]) for i in range(4)]
    img = build_image(layers)
    ref = repo.push(img)
    svc = ImageService.open(str(tmp_path / "root"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pull(svc, ref)
        except BaseException as e:
            errors.append(e)

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        gets = [p for m, p, _ in repo.proxy.requests if m == "GET" and "/blobs/" in p]
        for desc in json.loads(img.manifest)["layers"]:
            assert sum(1 for p in gets if p.endswith(desc["digest"])) == 1, gets
        assert svc.inspect_image(ref).id == img.image_id
    finally:
        svc.close()


def test_known_layer_on_a_new_parent_is_copied_not_downloaded(service: ImageService, repo: Repo) -> None:
    """overlay keeps no layer blobs: a known diff on another base is copied from its snapshot."""
    if not service.snapshots.independent_layers:
        pytest.skip("the native driver keeps layer blobs instead (covered by the unit tests)")
    top = make_layer([Entry("shared", "dir"), Entry("shared/f", data=b"s" * 50_000),
                      Entry(".wh.gone"), Entry("shared/.wh..wh..opq")])
    a = build_image([BASE, top])
    b = build_image([make_layer([Entry("other", data=b"o")]), top])
    ref_a, ref_b = repo.push(a, "a"), repo.push(b, "b")
    pull(service, ref_a)
    content: ContentStore = service.content  # type: ignore[assignment,unused-ignore]
    assert list(content.ingests()) == []
    assert sorted(d for d, _ in content.list()) == [a.image_id]  # layer blobs not kept
    pull(service, ref_b)
    top_digest = json.loads(a.manifest)["layers"][1]["digest"]
    gets = [p for m, p, _ in repo.proxy.requests if m == "GET" and p.endswith(top_digest)]
    assert len(gets) == 1
    listing = merged_listing(service, ref_b)
    assert listing["shared/f"] == b"s" * 50_000 and "other" in listing and "gone" not in listing
    assert service.inspect_image(ref_b).to_json()["RootFS"]["Layers"] == b.diff_ids
