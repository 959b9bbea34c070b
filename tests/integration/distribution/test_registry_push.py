"""Pushing with RegistryClient to the real docker-registry, anonymous and with token auth."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from sampan import errdefs
from sampan.distribution import AuthConfig, RegistryClient
from sampan.oci.image import Descriptor
from sampan.oci.reference import parse
from tests.support.faultproxy import FaultProxy
from tests.support.images import Image, busybox_image
from tests.support.registry import LocalRegistry
from tests.support.tokenserver import TokenServer

pytestmark = [pytest.mark.root, pytest.mark.registry]


def _push_image(c: RegistryClient, ref_text: str, img: Image, *, stream: bool = False) -> list[bool]:
    ref = parse(ref_text)
    uploaded = []
    for digest, blob in img.blobs.items():
        desc = Descriptor("application/octet-stream", digest, len(blob))
        uploaded.append(c.push_blob(ref, desc, io.BytesIO(blob) if stream else blob))
    assert c.put_manifest(ref, img.manifest, img.manifest_type) == img.digest
    return uploaded


def _pulls_back(c: RegistryClient, ref_text: str, img: Image) -> None:
    r = c.resolve(parse(ref_text))
    assert r.digest == img.digest
    for layer in r.manifest.layers:
        with c.open_blob(r.ref, layer) as reader:
            assert reader.read() == img.blobs[layer.digest]


def test_push_then_pull(registry: LocalRegistry) -> None:
    img = busybox_image("docker", labels={"push": "1"})
    ref = f"{registry.host}/push/one:v1"
    with RegistryClient() as c:
        assert _push_image(c, ref, img, stream=True) == [True, True]
        assert _push_image(c, ref, img) == [False, False]  # already there
        _pulls_back(c, ref, img)
        # a blob another repository has is mounted, not uploaded
        layer = next(d for d in img.blobs if d != img.config_digest)
        desc = Descriptor("application/octet-stream", layer, len(img.blobs[layer]))
        assert not c.push_blob(parse(f"{registry.host}/push/two"), desc, b"unused",
                               mount_from=parse(f"{registry.host}/push/one"))
        assert c.blob_exists(parse(f"{registry.host}/push/two"), layer)


def test_push_manifest_with_missing_blob(registry: LocalRegistry) -> None:
    img = busybox_image("oci", labels={"push": "missing"})
    with RegistryClient() as c, pytest.raises(errdefs.InvalidArgument, match="manifest blob unknown"):
        c.put_manifest(parse(f"{registry.host}/push/missing:v1"), img.manifest, img.manifest_type)


def test_push_upload_location_through_proxy(registry: LocalRegistry) -> None:
    img = busybox_image("oci", labels={"push": "proxy"})
    with FaultProxy(registry.url) as proxy, RegistryClient() as c:
        ref = f"{proxy.host}/push/proxied:v1"
        _push_image(c, ref, img)
        puts = [p for m, p, _ in proxy.requests if m == "PUT" and "/blobs/uploads/" in p]
        assert len(puts) == 2 and all("digest=sha256%3A" in p for p in puts)
        _pulls_back(c, ref, img)


@pytest.fixture(scope="module")
def token_registry() -> Iterator[tuple[TokenServer, LocalRegistry]]:
    ts = TokenServer(users={"alice": "secret"}).start()
    reg = LocalRegistry(auth_yaml=ts.auth_yaml())
    try:
        reg.start()
        yield ts, reg
    finally:
        reg.stop()
        ts.stop()


def test_push_with_token_auth(token_registry: tuple[TokenServer, LocalRegistry]) -> None:
    ts, reg = token_registry
    img = busybox_image("oci", labels={"push": "token"})
    ref = f"{reg.host}/push/tok:v1"
    ts.requests.clear()
    with RegistryClient(auth=AuthConfig(username="alice", password="secret")) as c:
        _push_image(c, ref, img, stream=True)
        _pulls_back(c, ref, img)
    assert {tuple(r.scopes) for r in ts.requests} == {("repository:push/tok:pull,push",),
                                                      ("repository:push/tok:pull",)}
    with RegistryClient() as c, pytest.raises(errdefs.Forbidden) as ei:
        _push_image(c, f"{reg.host}/push/anon:v1", img)
    assert str(ei.value) == "denied: requested access to the resource is denied"
    assert json.loads(img.manifest)["layers"]
