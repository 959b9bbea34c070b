"""Hostile and broken registries: each pull fails cleanly (or is contained) and stores nothing half."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from sampan.api.progress import JSONMessage
from sampan.daemon.images.service import ImageService
from sampan.errdefs import DataLoss, InvalidArgument, SampanError
from tests.integration.images.conftest import Repo
from tests.integration.images.test_pull import merged_listing
from tests.support.images import Entry, build_image, busybox_entries, make_layer

pytestmark = pytest.mark.root

BASE = make_layer(busybox_entries(("sh",)))


def pull(svc: ImageService, ref: str) -> None:
    msgs: list[JSONMessage] = []
    svc.pull(ref, platform=None, auth=None, progress=msgs.append)


def assert_clean(svc: ImageService) -> None:
    """No image, no unfinished snapshot, and every stored blob verifies."""
    assert svc.image_count() == 0
    assert all(s.kind == "committed" for s in svc.snapshots.walk())
    for digest, _size in svc.content.list():  # type: ignore[attr-defined,unused-ignore]
        from sampan.digest import Digest

        assert str(Digest.of_bytes(svc.content.read_bytes(digest))) == digest


def two_layers() -> tuple[object, str]:
    img = build_image([BASE, make_layer([Entry("big", data=os.urandom(400_000))])])
    return img, json.loads(img.manifest)["layers"][1]["digest"]


def test_corrupt_blob(service: ImageService, repo: Repo) -> None:
    img, top = two_layers()
    ref = repo.push(img)  # type: ignore[arg-type]
    repo.proxy.set_fault(f"/blobs/{top}", "corrupt", offset=1000, times=None)
    with pytest.raises(DataLoss):
        pull(service, ref)
    assert_clean(service)
    assert not service.content.has(top)
    repo.proxy.clear()
    pull(service, ref)
    assert service.inspect_image(ref).id == img.image_id  # type: ignore[attr-defined,unused-ignore]


def test_truncated_blob_resumes(service: ImageService, repo: Repo) -> None:
    img, top = two_layers()
    ref = repo.push(img)  # type: ignore[arg-type]
    repo.proxy.set_fault(f"/blobs/{top}", "truncate", after=100_000, times=2)
    pull(service, ref)
    assert service.inspect_image(ref).id == img.image_id  # type: ignore[attr-defined,unused-ignore]
    ranged = [h for m, p, h in repo.proxy.requests if p.endswith(top) and m == "GET"]
    assert any("Range" in h or "range" in h for h in ranged)


def test_truncated_blob_for_good(service: ImageService, repo: Repo) -> None:
    img, top = two_layers()
    ref = repo.push(img)  # type: ignore[arg-type]
    repo.proxy.set_fault(f"/blobs/{top}", "truncate", after=1000)
    repo.proxy.set_fault(f"/blobs/{top}", "status", status=500, times=None)
    with pytest.raises(SampanError):
        pull(service, ref)
    assert_clean(service)
    repo.proxy.clear()
    pull(service, ref)
    assert service.image_count() == 1


@pytest.mark.parametrize("where", ["/manifests/", "/blobs/"])
def test_registry_500(service: ImageService, repo: Repo, where: str) -> None:
    img, _ = two_layers()
    ref = repo.push(img)  # type: ignore[arg-type]
    repo.proxy.set_fault(where, "status", status=500, times=None)
    with pytest.raises(SampanError):
        pull(service, ref)
    assert_clean(service)


def test_manifest_too_big(service: ImageService, repo: Repo) -> None:
    img, _ = two_layers()
    ref = repo.push(img)  # type: ignore[arg-type]
    big = json.dumps({"schemaVersion": 2, "pad": "x" * (4 * 1024 * 1024 + 10)}).encode()
    repo.proxy.set_fault("/manifests/", "body", body=big,
                         content_type="application/vnd.oci.image.manifest.v1+json", times=None)
    with pytest.raises(SampanError, match=r"(?i)too big|too large|limit"):
        pull(service, ref)
    assert_clean(service)


def test_unknown_layer_media_type(service: ImageService, repo: Repo) -> None:
    odd = make_layer([Entry("f", data=b"x")])
    odd.media_type = "application/vnd.example.layer.v1+weird"
    img = build_image([BASE, odd])
    ref = repo.push(img)
    with pytest.raises(InvalidArgument, match="unsupported media type"):
        pull(service, ref)
    assert_clean(service)
    assert list(service.snapshots.walk()) == []


def test_diff_id_mismatch(service: ImageService, repo: Repo) -> None:
    good = make_layer([Entry("f", data=b"x")])
    img = build_image([BASE, good], extra_config={
        "rootfs": {"type": "layers", "diff_ids": [BASE.diff_id, "sha256:" + "0" * 64]}})
    ref = repo.push(img)
    with pytest.raises(DataLoss, match="diff ID"):
        pull(service, ref)
    assert_clean(service)
    assert len(list(service.snapshots.walk())) == 1  # only the verified base layer


def test_malicious_layer_is_contained(service: ImageService, repo: Repo) -> None:
    marker = f"sampan-evil-{uuid.uuid4().hex[:8]}"
    outside = f"/tmp/{marker}"
    evil = [
        make_layer([Entry(f"../../../../../tmp/{marker}-dotdot", data=b"evil")]),
        make_layer([Entry(f"/tmp/{marker}-abs", data=b"evil")]),
        make_layer([Entry("escape", "symlink", target="/tmp"), Entry(f"escape/{marker}-link", data=b"evil")]),
        make_layer([Entry("hl", "hardlink", target="/etc/passwd")]),
    ]
    for i, layer in enumerate(evil):
        ref = repo.push(build_image([BASE, layer]), f"evil{i}")
        try:
            pull(service, ref)
        except SampanError:
            assert all(s.kind == "committed" for s in service.snapshots.walk())
            assert not service.content.has(json.loads(build_image([BASE, layer]).manifest)["layers"][1]["digest"])
    for suffix in ("-dotdot", "-abs", "-link"):
        assert not os.path.exists(outside + suffix)
    with open("/etc/passwd", "rb") as f:
        assert b"evil" not in f.read()
    # device nodes and setuid bits are applied as Docker does (root may create them) but
    # stay inside the layer directory
    dev = make_layer([Entry("dev/evilnull", "char", devmajor=1, devminor=3, mode=0o666),
                      Entry("bin/suid", data=b"#!/bin/sh\n", mode=0o4755)])
    ref = repo.push(build_image([BASE, dev]), "dev")
    pull(service, ref)
    rec = service.resolve_image(ref)
    tree = merged_listing(service, ref)
    assert "bin/suid" in tree and "dev/evilnull" in tree
    assert rec.chain_id is not None
