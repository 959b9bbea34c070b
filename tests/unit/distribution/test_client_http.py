"""RegistryClient against an in-process fake registry: manifests, blobs, faults and auth."""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sampan import errdefs
from sampan.distribution import AuthConfig, RegistryClient
from sampan.distribution.client import MANIFEST_ACCEPT
from sampan.oci.image import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Platform,
    host_platform,
)
from sampan.oci.reference import parse
from tests.unit.distribution.fakeregistry import FakeRegistry, Handler


@pytest.fixture
def reg() -> Iterator[FakeRegistry]:
    r = FakeRegistry().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def client() -> Iterator[RegistryClient]:
    c = RegistryClient()
    try:
        yield c
    finally:
        c.close()


def add_image(reg: FakeRegistry, repo: str, tag: str, *, arch: str = "amd64", mt: str = OCI_MANIFEST,
              layer: bytes = b"layer-bytes") -> tuple[str, bytes]:
    cfg = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": reg.add_blob(cfg),
                   "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": reg.add_blob(layer),
                    "size": len(layer)}],
    }).encode()
    return reg.add_manifest(repo, tag, manifest, mt), manifest


def add_index(reg: FakeRegistry, repo: str, tag: str, mt: str = OCI_INDEX) -> dict[str, str]:
    digests = {}
    entries = []
    for arch in ("amd64", "arm64"):
        d, body = add_image(reg, repo, f"only-{arch}", arch=arch, layer=arch.encode() * 10)
        digests[arch] = d
        entries.append({"mediaType": OCI_MANIFEST, "digest": d, "size": len(body),
                        "platform": {"os": "linux", "architecture": arch}})
    index = json.dumps({"schemaVersion": 2, "mediaType": mt, "manifests": entries}).encode()
    digests["index"] = reg.add_manifest(repo, tag, index, mt)
    return digests


def test_accept_header_lists_all_manifest_types() -> None:
    assert set(MANIFEST_ACCEPT.split(", ")) == set(MANIFEST_TYPES | INDEX_TYPES)


@pytest.mark.parametrize("mt", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_resolve_tag(reg: FakeRegistry, client: RegistryClient, mt: str) -> None:
    digest, body = add_image(reg, "a/b", "v1", mt=mt)
    r = client.resolve(parse(f"{reg.host}/a/b:v1"))
    assert (r.digest, r.manifest_digest, r.media_type, r.index) == (digest, digest, mt, None)
    assert r.manifest_bytes == body
    assert r.manifest.layers[0].size == len(b"layer-bytes")
    [seen] = reg.requests_to("/manifests/v1")
    assert seen.headers["Accept"] == MANIFEST_ACCEPT
    assert seen.headers["User-Agent"] == "sampan/0.1"
    # by digest too
    r2 = client.resolve(parse(f"{reg.host}/a/b@{digest}"))
    assert r2.digest == digest


@pytest.mark.parametrize("mt", [OCI_INDEX, DOCKER_MANIFEST_LIST])
def test_resolve_index_selects_platform(reg: FakeRegistry, client: RegistryClient, mt: str) -> None:
    d = add_index(reg, "multi", "latest", mt)
    ref = parse(f"{reg.host}/multi")
    r = client.resolve(ref)
    assert r.digest == d["index"]
    assert r.index is not None and r.index.media_type == mt
    if host_platform().architecture in ("amd64", "arm64"):
        assert r.manifest_digest == d[host_platform().architecture]
    arm = client.resolve(ref, Platform.parse("linux/arm64"))
    assert (arm.digest, arm.manifest_digest) == (d["index"], d["arm64"])
    with pytest.raises(errdefs.NotFound, match="no matching manifest for linux/s390x in the manifest list entries"):
        client.resolve(ref, Platform.parse("linux/s390x"))


def test_manifest_unknown(reg: FakeRegistry, client: RegistryClient) -> None:
    with pytest.raises(errdefs.NotFound) as ei:
        client.resolve(parse(f"{reg.host}/a/b:nope"))
    assert str(ei.value) == f"manifest for {reg.host}/a/b:nope not found: manifest unknown: manifest unknown"


def _serve(body: bytes, mt: str, digest_header: str | None = None, total: int | None = None):  # type: ignore[no-untyped-def]
    def hook(h: Handler) -> bool:
        headers = {"Content-Type": mt}
        if digest_header:
            headers["Docker-Content-Digest"] = digest_header
        if total is not None:
            h.cut(200, body, total, headers)
        else:
            h.reply(200, body, headers)
        return True
    return hook


def test_by_digest_pull_must_match(reg: FakeRegistry, client: RegistryClient) -> None:
    digest, _ = add_image(reg, "a/b", "v1")
    _, other = add_image(reg, "a/b", "v2", layer=b"other")
    reg.hooks[f"/manifests/{digest}"] = _serve(other, OCI_MANIFEST)
    with pytest.raises(errdefs.DataLoss, match="manifest verification failed"):
        client.resolve(parse(f"{reg.host}/a/b@{digest}"))


def test_tag_pull_checks_docker_content_digest(reg: FakeRegistry, client: RegistryClient) -> None:
    _, body = add_image(reg, "a/b", "v1")
    reg.hooks["/manifests/v1"] = _serve(body, OCI_MANIFEST, "sha256:" + "0" * 64)
    with pytest.raises(errdefs.DataLoss, match="registry says sha256:0000"):
        client.resolve(parse(f"{reg.host}/a/b:v1"))


def test_oversize_manifest_refused_without_reading_it(reg: FakeRegistry, client: RegistryClient) -> None:
    reg.hooks["/manifests/big"] = _serve(b"{" * 1000, OCI_MANIFEST, total=5 * 1024 * 1024)
    with pytest.raises(errdefs.InvalidArgument, match="manifest too big"):
        client.resolve(parse(f"{reg.host}/a/b:big"))

    def no_length(h: Handler) -> bool:
        h.send_response(200)
        h.send_header("Content-Type", OCI_MANIFEST)
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        try:
            h.wfile.write(b" " * (5 * 1024 * 1024))
        except OSError:
            pass
        return True

    reg.hooks["/manifests/stream"] = no_length
    with pytest.raises(errdefs.InvalidArgument, match="manifest too big"):
        client.resolve(parse(f"{reg.host}/a/b:stream"))


def test_unknown_media_type_and_schema1(reg: FakeRegistry, client: RegistryClient) -> None:
    reg.hooks["/manifests/odd"] = _serve(b"{}", "application/vnd.example.thing+json")
    with pytest.raises(errdefs.InvalidArgument, match=r"unsupported manifest media type: application/vnd\.example"):
        client.resolve(parse(f"{reg.host}/a/b:odd"))
    s1 = json.dumps({"schemaVersion": 1, "name": "a/b", "tag": "old", "fsLayers": []}).encode()
    reg.hooks["/manifests/old"] = _serve(s1, "application/vnd.docker.distribution.manifest.v1+prettyjws")
    with pytest.raises(errdefs.InvalidArgument, match="schema 1 has been removed"):
        client.resolve(parse(f"{reg.host}/a/b:old"))


def _blob(reg: FakeRegistry, size: int) -> tuple[Descriptor, bytes]:
    data = os.urandom(size)
    return Descriptor("application/octet-stream", reg.add_blob(data), size), data


def test_fetch_blob_bytes_verifies(reg: FakeRegistry, client: RegistryClient) -> None:
    desc, data = _blob(reg, 1000)
    ref = parse(f"{reg.host}/a/b")
    assert client.fetch_blob_bytes(ref, desc, 4096) == data
    with pytest.raises(errdefs.InvalidArgument, match="too big"):
        client.fetch_blob_bytes(ref, desc, 999)
    reg.blobs[desc.digest] = b"x" * 1000
    with pytest.raises(errdefs.DataLoss, match="digest mismatch"):
        client.fetch_blob_bytes(ref, desc, 4096)
    missing = Descriptor("x", "sha256:" + "e" * 64, 3)
    with pytest.raises(errdefs.NotFound, match="blob unknown"):
        client.fetch_blob_bytes(ref, missing, 4096)


def test_open_blob_streams_and_offsets(reg: FakeRegistry, client: RegistryClient) -> None:
    desc, data = _blob(reg, 3 * 1024 * 1024 + 5)
    ref = parse(f"{reg.host}/a/b")
    with client.open_blob(ref, desc) as r:
        assert r.size == len(data)
        buf = bytearray(1 << 20)
        out = bytearray()
        while n := r.readinto(buf):
            out += buf[:n]
    assert bytes(out) == data
    with client.open_blob(ref, desc, offset=100) as r:
        assert r.read() == data[100:]
    assert reg.requests_to("/blobs/")[-1].headers.get("Range") == "bytes=100-"

    before = len(reg.requests_to("/blobs/"))
    with client.open_blob(ref, desc, offset=len(data)) as r:
        assert r.read() == b""
    assert len(reg.requests_to("/blobs/")) == before

    def ignore_range(h: Handler) -> bool:
        h.reply(200, data)
        return True

    reg.hooks["/blobs/"] = ignore_range
    with client.open_blob(ref, desc, offset=7) as r:
        assert r.read(10) == data[7:17]
        assert r.read() == data[17:]


def test_truncated_blob_resumes_with_range(reg: FakeRegistry, client: RegistryClient) -> None:
    desc, data = _blob(reg, 2 * 1024 * 1024)
    cuts = [1000, 500_000]

    def truncate(h: Handler) -> bool:
        rng = h.headers.get("Range", "")
        start = int(rng[6:-1]) if rng else 0
        if not cuts or start != (0 if len(cuts) == 2 else 1000):
            return False
        cut = cuts.pop(0)
        status, extra = (206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}) if start else (200, {})
        h.cut(status, data[start:cut], len(data) - start, extra)
        return True

    reg.hooks["/blobs/"] = truncate
    with client.open_blob(parse(f"{reg.host}/a/b"), desc) as r:
        assert r.read() == data
    assert [s.headers.get("Range") for s in reg.requests_to("/blobs/")] == [None, "bytes=1000-", "bytes=500000-"]


def test_blob_that_never_finishes_is_data_loss(reg: FakeRegistry, client: RegistryClient) -> None:
    desc, data = _blob(reg, 10_000)

    def always_cut(h: Handler) -> bool:
        h.cut(200, b"", len(data))
        return True

    reg.hooks["/blobs/"] = always_cut
    with pytest.raises(errdefs.DataLoss, match="unexpected EOF"):
        client.open_blob(parse(f"{reg.host}/a/b"), desc).read()


def test_redirect_to_other_host_drops_authorization(reg: FakeRegistry) -> None:
    reg.auth, reg.users = "basic", {"u": "p"}
    desc, data = _blob(reg, 5000)

    def redirect(h: Handler) -> bool:
        if h.path.startswith("/v2/") and h.headers.get("Authorization"):
            h.reply(307, b"", {"Location": f"http://localhost:{reg.port}/storage/{desc.digest}?sig=1"})
            return True
        return False

    def storage(h: Handler) -> bool:
        h.reply(200, data)
        return True

    reg.hooks["/blobs/"] = redirect
    reg.hooks["/storage/"] = storage
    with RegistryClient(auth=AuthConfig(username="u", password="p")) as c:
        assert c.fetch_blob_bytes(parse(f"{reg.host}/a/b"), desc, 10_000) == data
    [stored] = reg.requests_to("/storage/")
    assert "Authorization" not in stored.headers
    assert stored.path.endswith("?sig=1")


def test_server_errors_are_retried(reg: FakeRegistry, client: RegistryClient) -> None:
    add_image(reg, "a/b", "v1")
    failures = [1, 1]

    def flaky(h: Handler) -> bool:
        if failures:
            failures.pop()
            h.error(503, "UNAVAILABLE", "try later")
            return True
        return False

    reg.hooks["/manifests/v1"] = flaky
    client.resolve(parse(f"{reg.host}/a/b:v1"))
    assert len(reg.requests_to("/manifests/v1")) == 3

    def broken(h: Handler) -> bool:
        h.reply(500, b"oops")
        return True

    reg.hooks["/manifests/v1"] = broken
    with pytest.raises(errdefs.System) as ei:
        client.resolve(parse(f"{reg.host}/a/b:v1"))
    assert str(ei.value) == "received unexpected HTTP status: 500 Internal Server Error"
    assert len(reg.requests_to("/manifests/v1")) == 6


def test_connection_refused_wording() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with RegistryClient() as c, pytest.raises(errdefs.System) as ei:
        c.resolve(parse(f"127.0.0.1:{port}/a/b:1"))
    assert str(ei.value) == (
        f'Get "http://127.0.0.1:{port}/v2/": dial tcp 127.0.0.1:{port}: connect: connection refused'
    )


def test_concurrent_blob_downloads_share_one_client(reg: FakeRegistry, client: RegistryClient) -> None:
    blobs = [_blob(reg, 1024 * 1024 + i) for i in range(6)]
    ref = parse(f"{reg.host}/a/b")
    results: dict[int, bytes] = {}

    def worker(i: int) -> None:
        with client.open_blob(ref, blobs[i][0]) as r:
            results[i] = r.read()

    for round_ in (0, 3):
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(round_, round_ + 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(results[i] == blobs[i][1] for i in range(6))
    pings = reg.requests_to("/v2/")
    assert len([p for p in pings if p.path == "/v2/"]) == 1


def test_plain_http_decision_is_remembered(reg: FakeRegistry, client: RegistryClient) -> None:
    add_image(reg, "a/b", "v1")
    for _ in range(3):
        r = client.resolve(parse(f"{reg.host}/a/b:v1"))
        client.fetch_blob_bytes(r.ref, r.manifest.config, 1 << 20)
    assert reg.bad_requests == 1  # only the first TLS hello hit the plain-HTTP server


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return ctx


def test_insecure_registry_over_https_skips_verification(tmp_path: Path) -> None:
    reg = FakeRegistry(tls=_self_signed(tmp_path), auth="bearer", users={"u": "p"}).start()
    try:
        digest, _ = add_image(reg, "a/b", "v1")
        with RegistryClient(auth=AuthConfig(username="u", password="p")) as c:
            r = c.resolve(parse(f"{reg.host}/a/b:v1"))
            assert r.digest == digest
            assert c.fetch_blob_bytes(r.ref, r.manifest.layers[0], 1 << 20) == b"layer-bytes"
        assert reg.bad_requests == 0
        assert reg.tokens_issued == 1
    finally:
        reg.stop()
