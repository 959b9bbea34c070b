"""RegistryClient against the real docker-registry: formats, lists, digests, auth and faults."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator

import bcrypt
import pytest

from sampan import errdefs
from sampan.distribution import AuthConfig, RegistryClient
from sampan.oci.image import OCI_LAYER_ZSTD, Descriptor, Platform, host_platform
from sampan.oci.reference import parse
from tests.support.faultproxy import FaultProxy
from tests.support.images import (
    Entry,
    Image,
    Pusher,
    build_image,
    build_index,
    busybox_image,
    make_layer,
    random_blob,
)
from tests.support.registry import LocalRegistry
from tests.support.tokenserver import TokenServer

pytestmark = [pytest.mark.root, pytest.mark.registry]


@pytest.fixture(scope="module")
def bb_oci() -> Image:
    return busybox_image("oci")


def _stream(client: RegistryClient, ref_text: str, desc: Descriptor) -> bytes:
    out = bytearray()
    buf = bytearray(1 << 20)
    with client.open_blob(parse(ref_text), desc) as r:
        while n := r.readinto(buf):
            out += buf[:n]
    return bytes(out)


def _check_pull(client: RegistryClient, ref_text: str, img: Image) -> None:
    r = client.resolve(parse(ref_text))
    assert r.digest == img.digest == r.manifest_digest
    assert r.manifest_bytes == img.manifest
    assert r.media_type == img.manifest_type
    assert client.fetch_blob_bytes(r.ref, r.manifest.config, 1 << 20) == img.config
    for layer in r.manifest.layers:
        assert _stream(client, ref_text, layer) == img.blobs[layer.digest]


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_anonymous_pull(registry: LocalRegistry, fmt: str) -> None:
    img = busybox_image(fmt)
    Pusher(registry.url).push_image(f"dist/anon-{fmt}", "v1", img)
    with RegistryClient() as c:
        _check_pull(c, f"{registry.host}/dist/anon-{fmt}:v1", img)
        by_digest = c.resolve(parse(f"{registry.host}/dist/anon-{fmt}@{img.digest}"))
        assert by_digest.digest == img.digest
        with pytest.raises(errdefs.NotFound, match="manifest unknown: manifest unknown"):
            c.resolve(parse(f"{registry.host}/dist/anon-{fmt}:missing"))


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_manifest_list_platforms(registry: LocalRegistry, fmt: str) -> None:
    layer = make_layer([Entry("hello", data=b"hi")])
    amd = build_image([layer], fmt=fmt, architecture="amd64")
    arm = build_image([make_layer([Entry("hello", data=b"arm")])], fmt=fmt, architecture="arm64")
    index = build_index([(amd, {"os": "linux", "architecture": "amd64"}),
                         (arm, {"os": "linux", "architecture": "arm64", "variant": "v8"})], fmt=fmt)
    Pusher(registry.url).push_index(f"dist/multi-{fmt}", "latest", index)
    ref = parse(f"{registry.host}/dist/multi-{fmt}")
    with RegistryClient() as c:
        r = c.resolve(ref, Platform.parse("linux/amd64"))
        assert (r.digest, r.manifest_digest) == (index.digest, amd.digest)
        assert r.index is not None and len(r.index.manifests) == 2
        if host_platform().architecture == "amd64":
            assert c.resolve(ref).manifest_digest == amd.digest
        r = c.resolve(ref, Platform.parse("linux/arm64"))
        assert (r.digest, r.manifest_digest) == (index.digest, arm.digest)
        assert c.fetch_blob_bytes(ref, r.manifest.config, 1 << 20) == arm.config
        by_digest = c.resolve(ref.with_digest(index.digest), Platform.parse("linux/arm64"))
        assert by_digest.manifest_digest == arm.digest


def test_zstd_layer(registry: LocalRegistry) -> None:
    img = busybox_image("oci", compression="zstd")
    Pusher(registry.url).push_image("dist/zstd", "v1", img)
    with RegistryClient() as c:
        r = c.resolve(parse(f"{registry.host}/dist/zstd:v1"))
        assert r.manifest.layers[0].media_type == OCI_LAYER_ZSTD
        _check_pull(c, f"{registry.host}/dist/zstd:v1", img)


def test_big_blob_throughput(registry: LocalRegistry) -> None:
    img = build_image([make_layer([Entry("big", data=random_blob(64 * 1024 * 1024))], compression="")])
    Pusher(registry.url).push_image("dist/big", "v1", img)
    with RegistryClient() as c:
        r = c.resolve(parse(f"{registry.host}/dist/big:v1"))
        desc = r.manifest.layers[0]
        h = hashlib.sha256()
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        start = time.monotonic()
        with c.open_blob(r.ref, desc) as reader:
            while n := reader.readinto(buf):
                h.update(view[:n])
        elapsed = time.monotonic() - start
    assert "sha256:" + h.hexdigest() == desc.digest
    print(f"blob stream + sha256: {desc.size / elapsed / 1e6:.0f} MB/s")


@pytest.fixture(scope="module")
def basic_registry(bb_oci: Image) -> Iterator[LocalRegistry]:
    d = tempfile.mkdtemp(prefix="sampan-htpasswd-")
    path = os.path.join(d, "htpasswd")
    with open(path, "wb") as f:
        f.write(b"alice:" + bcrypt.hashpw(b"secret", bcrypt.gensalt(rounds=4)) + b"\n")
    reg = LocalRegistry(auth_yaml=f"auth:\n  htpasswd:\n    realm: test\n    path: {path}\n").start()
    try:
        Pusher(reg.url, "Basic " + base64.b64encode(b"alice:secret").decode()).push_image("dist/priv", "v1", bb_oci)
        yield reg
    finally:
        reg.stop()
        os.unlink(path)
        os.rmdir(d)


def test_basic_auth(basic_registry: LocalRegistry, bb_oci: Image) -> None:
    ref = f"{basic_registry.host}/dist/priv:v1"
    with RegistryClient(auth=AuthConfig(username="alice", password="secret")) as c:
        _check_pull(c, ref, bb_oci)
    with RegistryClient() as c, pytest.raises(errdefs.Unauthorized, match="no basic auth credentials"):
        c.resolve(parse(ref))
    with RegistryClient(auth=AuthConfig(username="alice", password="bad")) as c, \
            pytest.raises(errdefs.Unauthorized, match="unauthorized: authentication required"):
        c.resolve(parse(ref))


@pytest.fixture(scope="module")
def token_setup(bb_oci: Image) -> Iterator[tuple[TokenServer, LocalRegistry]]:
    ts = TokenServer(users={"alice": "secret"}, refresh_tokens={"refresh-alice": "alice"}).start()
    reg = LocalRegistry(auth_yaml=ts.auth_yaml())
    try:
        reg.start()
        token = ts.issue("alice", ["repository:dist/tok:pull,push"])
        Pusher(reg.url, f"Bearer {token}").push_image("dist/tok", "v1", bb_oci)
        yield ts, reg
    finally:
        reg.stop()
        ts.stop()


def test_bearer_token_auth(token_setup: tuple[TokenServer, LocalRegistry], bb_oci: Image) -> None:
    ts, reg = token_setup
    ref = f"{reg.host}/dist/tok:v1"
    ts.requests.clear()
    with RegistryClient(auth=AuthConfig(username="alice", password="secret")) as c:
        _check_pull(c, ref, bb_oci)
    assert [(r.method, r.user, r.scopes) for r in ts.requests] == [("GET", "alice", ["repository:dist/tok:pull"])]
    with RegistryClient() as c, pytest.raises(errdefs.NotFound) as ei:
        c.resolve(parse(ref))
    assert str(ei.value) == (f"pull access denied for {reg.host}/dist/tok, repository does not exist or may "
                             "require 'docker login': denied: requested access to the resource is denied")
    with RegistryClient(auth=AuthConfig(username="alice", password="bad")) as c, \
            pytest.raises(errdefs.Unauthorized, match="unauthorized: incorrect username or password"):
        c.resolve(parse(ref))


def test_identity_token_oauth(token_setup: tuple[TokenServer, LocalRegistry], bb_oci: Image) -> None:
    ts, reg = token_setup
    ts.requests.clear()
    with RegistryClient(auth=AuthConfig(identity_token="refresh-alice")) as c:
        r = c.resolve(parse(f"{reg.host}/dist/tok:v1"))
        assert r.digest == bb_oci.digest
    assert [(r.method, r.user, r.grant_type) for r in ts.requests] == [("POST", "alice", "refresh_token")]


@pytest.fixture
def proxy(registry: LocalRegistry, bb_oci: Image) -> Iterator[FaultProxy]:
    Pusher(registry.url).push_image("dist/faults", "v1", bb_oci)
    with FaultProxy(registry.url) as p:
        yield p


def test_faults_recovered(proxy: FaultProxy, bb_oci: Image) -> None:
    ref = f"{proxy.host}/dist/faults:v1"
    layer = next(d for d in bb_oci.blobs if d != bb_oci.config_digest)
    proxy.set_fault("/manifests/v1", "status", status=500, times=2)
    proxy.set_fault(f"/blobs/{layer}", "truncate", after=100_000)
    proxy.set_fault(bb_oci.config_digest, "redirect", host="localhost")
    with RegistryClient() as c:
        _check_pull(c, ref, bb_oci)
    ranges = [h.get("Range") for _, _, h in proxy.requests_matching(f"/blobs/{layer}")]
    assert ranges == [None, "bytes=100000-"]
    assert len(proxy.requests_matching("/manifests/v1")) == 3
    assert len(proxy.requests_matching("/_redirect/")) == 1


def test_faults_reported(proxy: FaultProxy, bb_oci: Image) -> None:
    ref = parse(f"{proxy.host}/dist/faults:v1")
    with RegistryClient() as c:
        r = c.resolve(ref)
        proxy.set_fault(bb_oci.config_digest, "corrupt", offset=3)
        with pytest.raises(errdefs.DataLoss, match="digest mismatch"):
            c.fetch_blob_bytes(ref, r.manifest.config, 1 << 20)
        proxy.set_fault("/blobs/", "truncate", after=10, times=None)
        with pytest.raises(errdefs.DataLoss, match="unexpected EOF"):
            c.open_blob(ref, r.manifest.layers[0]).read()
        proxy.clear()
        proxy.set_fault("/manifests/", "status", status=503, times=None)
        with pytest.raises(errdefs.System, match="received unexpected HTTP status: 503 Service Unavailable"):
            c.resolve(ref)
