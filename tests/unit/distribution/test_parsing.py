"""Pure parsing: WWW-Authenticate challenges, registry error bodies and Docker's wording."""

from __future__ import annotations

import errno
import json
import socket

from sampan import errdefs
from sampan.distribution.challenge import parse_challenges
from sampan.distribution.errors import (
    NetworkError,
    RegistryError,
    blob_error,
    manifest_error,
    network_error,
    parse_error_body,
    response_error,
)
from sampan.distribution.tokens import pick_challenge
from sampan.oci.reference import parse


def test_bearer_challenge_with_quoted_commas() -> None:
    [ch] = parse_challenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull,push"'
    )
    assert ch.scheme == "bearer"
    assert ch.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/busybox:pull,push",
    }


def test_challenge_escapes_spaces_and_case() -> None:
    [ch] = parse_challenges('BEARER  Realm = "http://a/t?x=1" , error="insufficient_scope", x="a\\"b"')
    assert ch.scheme == "bearer"
    assert ch.get("realm") == "http://a/t?x=1"
    assert ch.get("error") == "insufficient_scope"
    assert ch.get("x") == 'a"b'


def test_several_challenges_and_headers() -> None:
    chs = parse_challenges(['Basic realm="r1", Bearer realm="http://t",service=s', 'Negotiate abc=='])
    assert [c.scheme for c in chs] == ["basic", "bearer", "negotiate"]
    assert chs[0].params == {"realm": "r1"}
    assert chs[1].params == {"realm": "http://t", "service": "s"}
    assert chs[2].params == {"": "abc=="}
    assert pick_challenge(chs) is chs[1]
    assert pick_challenge(chs[:1]) is chs[0]
    assert pick_challenge(chs[2:]) is None


def test_empty_and_junk_challenges() -> None:
    assert parse_challenges("") == []
    assert [c.scheme for c in parse_challenges('Basic, ,"junk"')] == ["basic", "junk"]


def test_error_body_parsing() -> None:
    body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                                   "detail": {"Tag": "x"}}, {"code": "DENIED"}]}).encode()
    errs = parse_error_body(body)
    assert [str(e) for e in errs] == ["manifest unknown: manifest unknown",
                                      "denied: requested access to the resource is denied"]
    assert parse_error_body(b"<html>") == []
    assert parse_error_body(b'{"errors": "x"}') == []


def test_oauth_challenge_errors_win_over_body() -> None:
    www = ['Bearer realm="http://t",error="insufficient_scope"']
    err = response_error(401, "Unauthorized", b'{"errors":[{"code":"UNAUTHORIZED","message":"x"}]}', www)
    assert err == RegistryError("DENIED", "requested access to the resource is denied")
    www = ['Bearer realm="http://t",error="invalid_token",error_description="token expired"']
    assert response_error(401, "", b"", www) == RegistryError("UNAUTHORIZED", "token expired")
    assert response_error(401, "", b"", []) == RegistryError("UNAUTHORIZED", "authentication required")
    assert response_error(500, "", b"", []) is None


def test_manifest_error_wording() -> None:
    ref = parse("127.0.0.1:5000/x/bb:nope")
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
    e = manifest_error(ref, 404, "Not Found", body, [], authenticated=False)
    assert isinstance(e, errdefs.NotFound)
    assert str(e) == "manifest for 127.0.0.1:5000/x/bb:nope not found: manifest unknown: manifest unknown"
    hub = parse("busybox:latest")
    e = manifest_error(hub, 401, "Unauthorized", b"", ['Bearer realm="x",error="insufficient_scope"'],
                       authenticated=False)
    assert isinstance(e, errdefs.NotFound)
    assert str(e) == ("pull access denied for busybox, repository does not exist or may require "
                      "'docker login': denied: requested access to the resource is denied")
    e = manifest_error(hub, 401, "Unauthorized", b'{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}',
                       [], authenticated=True)
    assert isinstance(e, errdefs.Unauthorized)
    assert str(e) == "unauthorized: bad"
    e = manifest_error(hub, 502, "Bad Gateway", b"", [], authenticated=False)
    assert isinstance(e, errdefs.System)
    assert str(e) == "received unexpected HTTP status: 502 Bad Gateway"
    e = manifest_error(parse("a/b@sha256:" + "1" * 64), 404, "Not Found", b"", [], authenticated=False)
    assert str(e) == f"manifest for a/b@sha256:{'1' * 64} not found: manifest unknown: manifest unknown"
    e = manifest_error(hub, 429, "Too Many Requests",
                       b'{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limit"}]}', [],
                       authenticated=False)
    assert isinstance(e, errdefs.Unavailable)


def test_blob_error_wording() -> None:
    e = blob_error(parse("x/y"), "sha256:" + "a" * 64, 404, "Not Found", b"", [], authenticated=False)
    assert isinstance(e, errdefs.NotFound)
    assert "blob unknown: blob unknown to registry" in str(e)


def test_network_error_wording() -> None:
    e = network_error("GET", "http://127.0.0.1:5000/v2/", "127.0.0.1:5000", ConnectionRefusedError())
    assert isinstance(e, NetworkError) and isinstance(e, errdefs.System)
    assert str(e) == 'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'
    e = network_error("GET", "https://nope.invalid/v2/", "nope.invalid", socket.gaierror(-2, "x"))
    assert str(e) == 'Get "https://nope.invalid/v2/": dial tcp: lookup nope.invalid: no such host'
    e = network_error("HEAD", "http://h/v2/", "h", ConnectionResetError(errno.ECONNRESET, "reset"))
    assert str(e) == 'Head "http://h/v2/": read tcp h: connection reset by peer'
    e = network_error("GET", "http://h/v2/", "h", TimeoutError())
    assert "i/o timeout" in str(e)


def test_tls_error_wording() -> None:
    import ssl

    wrong = ssl.SSLError(1, "wrong version")
    wrong.reason = "WRONG_VERSION_NUMBER"
    e = network_error("GET", "https://h:5000/v2/", "h:5000", wrong)
    assert str(e) == 'Get "https://h:5000/v2/": http: server gave HTTP response to HTTPS client'
    unknown = ssl.SSLCertVerificationError(1, "verify failed")
    unknown.verify_message = "self-signed certificate"
    e = network_error("GET", "https://h/v2/", "h", unknown)
    assert str(e) == ('Get "https://h/v2/": tls: failed to verify certificate: '
                      "x509: certificate signed by unknown authority")
