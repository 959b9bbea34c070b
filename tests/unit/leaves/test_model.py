"""The OCI data model, digests and chain IDs."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from sampan.digest import Digest, VerifyingReader, is_digest
from sampan.errdefs import DataLoss, InvalidArgument, NotFound, from_status, status_of
from sampan.oci import image as oci
from sampan.oci.identity import chain_id, chain_ids

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def test_digest_parse_and_reject_traversal() -> None:
    assert str(Digest.parse(D1)) == D1
    for bad in ("sha256:../../etc", "md5:" + "0" * 32, "sha256:" + "A" * 64, "sha256:" + "1" * 63):
        assert not is_digest(bad)
        with pytest.raises(InvalidArgument):
            Digest.parse(bad)


def test_verifying_reader() -> None:
    data = b"hello world"
    good = Digest.of_bytes(data)
    r = VerifyingReader(io.BytesIO(data), good, len(data))
    assert r.read() == data
    r.verify()
    bad = VerifyingReader(io.BytesIO(data + b"!"), good, len(data))
    with pytest.raises(DataLoss):
        bad.read()
    short = VerifyingReader(io.BytesIO(data[:-1]), good, len(data))
    short.read()
    with pytest.raises(DataLoss, match="size mismatch"):
        short.verify()


def test_chain_ids_match_spec() -> None:
    ids = chain_ids([D1, D2])
    assert ids[0] == D1
    assert ids[1] == "sha256:" + hashlib.sha256(f"{D1} {D2}".encode()).hexdigest()
    assert chain_id([D1]) == D1


def test_manifest_round_trip_and_index_selection() -> None:
    desc = {"mediaType": oci.OCI_CONFIG, "digest": D1, "size": 10}
    layer = {"mediaType": oci.OCI_LAYER_GZIP, "digest": D2, "size": 20}
    m = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "config": desc, "layers": [layer]}
    parsed = oci.parse_manifest_bytes(json.dumps(m).encode(), "")
    assert isinstance(parsed, oci.Manifest)
    assert parsed.to_json() == m
    idx = {
        "schemaVersion": 2,
        "mediaType": oci.DOCKER_MANIFEST_LIST,
        "manifests": [
            {**desc, "mediaType": oci.DOCKER_MANIFEST, "platform": {"os": "linux", "architecture": "arm",
                                                                     "variant": "v6"}},
            {**desc, "digest": D2, "mediaType": oci.DOCKER_MANIFEST,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {**desc, "mediaType": oci.DOCKER_MANIFEST, "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    }
    index = oci.parse_manifest_bytes(json.dumps(idx).encode(), "")
    assert isinstance(index, oci.Index)
    assert index.select(oci.Platform.parse("linux/arm64")).digest == D2
    assert index.select(oci.Platform.parse("linux/amd64")).platform == oci.Platform("linux", "amd64")
    with pytest.raises(NotFound, match="no matching manifest for linux/s390x"):
        index.select(oci.Platform.parse("linux/s390x"))


def test_manifest_limits_and_unknown_types() -> None:
    with pytest.raises(InvalidArgument, match="manifest too big"):
        oci.parse_manifest_bytes(b" " * (oci.MAX_MANIFEST_SIZE + 1), "")
    with pytest.raises(InvalidArgument, match="unsupported manifest media type"):
        oci.parse_manifest_bytes(b'{"schemaVersion": 2, "mediaType": "text/plain"}', "")
    with pytest.raises(InvalidArgument, match="schema 1"):
        oci.parse_manifest_bytes(b'{"schemaVersion": 1, "name": "x"}', "")


def test_host_platform_is_normalised() -> None:
    p = oci.host_platform()
    assert p.os == "linux" and p.architecture in {"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64"}


def test_error_map_round_trip() -> None:
    err = NotFound("No such image: x")
    assert status_of(err) == 404 and status_of(ValueError()) == 500
    back = from_status(404, "No such image: x")
    assert isinstance(back, NotFound) and str(back) == "No such image: x"
