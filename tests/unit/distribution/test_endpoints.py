"""Endpoint and insecure-registry decisions, TLS contexts with certs.d (no DNS: IP literals)."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sampan import errdefs
from sampan.distribution.endpoints import InsecurePolicy, endpoint_for, split_hostport, tls_context


def test_docker_hub_endpoint_is_secure_registry_1() -> None:
    ep = endpoint_for("docker.io", InsecurePolicy(["0.0.0.0/0"]))
    assert (ep.host, ep.insecure) == ("registry-1.docker.io", False)


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "localhost:5000", "localhost"])
def test_loopback_is_insecure_by_default(host: str) -> None:
    ep = endpoint_for(host, InsecurePolicy())
    assert ep.insecure and ep.host == host


def test_configured_insecure_registries() -> None:
    policy = InsecurePolicy(["10.0.0.0/8", "192.168.1.5:5000", "http://172.16.0.1/", "myreg.test:443"])
    assert policy.is_insecure("10.1.2.3:5000")
    assert policy.is_insecure("192.168.1.5:5000")
    assert not policy.is_insecure("192.168.1.5:6000")
    assert policy.is_insecure("172.16.0.1")
    assert policy.is_insecure("172.16.0.1:5000")  # a bare host entry covers every port
    assert policy.is_insecure("myreg.test:443")
    assert not policy.is_insecure("11.0.0.1:5000")
    assert not policy.is_insecure("[2001:db8::1]:5000")


def test_invalid_cidr_refused() -> None:
    with pytest.raises(errdefs.InvalidArgument):
        InsecurePolicy(["10.0.0.0/99"])


def test_split_hostport() -> None:
    assert split_hostport("h:5000") == ("h", 5000)
    assert split_hostport("h") == ("h", None)
    assert split_hostport("[::1]:5000") == ("::1", 5000)
    assert split_hostport("[::1]") == ("::1", None)


def _cert(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_tls_context_loads_certs_d_ca(tmp_path: Path) -> None:
    d = tmp_path / "certs.d" / "reg.test:5000"
    d.mkdir(parents=True)
    _cert(d / "ca.crt")
    base = ssl.create_default_context().cert_store_stats()["x509_ca"]
    ctx = tls_context("reg.test:5000", False, [str(tmp_path / "certs.d")])
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == base + 1
    insecure = tls_context("reg.test:5000", True, [str(tmp_path / "certs.d")])
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname


def test_tls_client_cert_needs_key(tmp_path: Path) -> None:
    d = tmp_path / "reg.test"
    d.mkdir()
    (d / "client.cert").write_text("x")
    with pytest.raises(errdefs.InvalidArgument, match=r"missing key client\.key"):
        tls_context("reg.test", False, [str(tmp_path)])
