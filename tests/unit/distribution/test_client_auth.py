"""Basic and Bearer auth against the fake registry: credentials, tokens, caching, wording."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sampan import errdefs
from sampan.distribution import AuthConfig, RegistryClient
from sampan.oci.reference import parse
from tests.unit.distribution.fakeregistry import FakeRegistry
from tests.unit.distribution.test_client_http import add_image


@pytest.fixture
def reg() -> Iterator[FakeRegistry]:
    r = FakeRegistry(users={"alice": "secret"}).start()
    add_image(r, "a/b", "v1")
    try:
        yield r
    finally:
        r.stop()


def _resolve(reg: FakeRegistry, auth: AuthConfig | None = None, **kw: str) -> None:
    with RegistryClient(auth=auth, **kw) as c:  # type: ignore[arg-type]
        c.resolve(parse(f"{reg.host}/a/b:v1"))


def test_basic_auth(reg: FakeRegistry) -> None:
    reg.auth = "basic"
    _resolve(reg, AuthConfig(username="alice", password="secret"))
    with pytest.raises(errdefs.Unauthorized) as ei:
        _resolve(reg)
    assert str(ei.value) == f'Get "http://{reg.host}/v2/a/b/manifests/v1": no basic auth credentials'
    with pytest.raises(errdefs.Unauthorized, match=r"^unauthorized: authentication required$"):
        _resolve(reg, AuthConfig(username="alice", password="wrong"))


def test_basic_auth_from_docker_config(reg: FakeRegistry, tmp_path: Path) -> None:
    import base64

    reg.auth = "basic"
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"auths": {reg.host: {"auth": base64.b64encode(b"alice:secret").decode()}}}))
    _resolve(reg, docker_config=str(cfg))


def test_bearer_token_fetched_once_and_cached(reg: FakeRegistry) -> None:
    reg.auth = "bearer"
    with RegistryClient(auth=AuthConfig(username="alice", password="secret")) as c:
        r = c.resolve(parse(f"{reg.host}/a/b:v1"))
        c.fetch_blob_bytes(r.ref, r.manifest.config, 1 << 20)
        c.resolve(parse(f"{reg.host}/a/b:v1"))
    assert reg.tokens_issued == 1
    [tok] = reg.requests_to("/token")
    assert "service=fake" in tok.path and "scope=repository%3Aa%2Fb%3Apull" in tok.path
    assert "account=alice" in tok.path
    assert tok.headers["Authorization"].startswith("Basic ")
    assert all(s.headers.get("Authorization") == "Bearer good-token" for s in reg.requests_to("/manifests/"))


def test_expired_token_is_fetched_again(reg: FakeRegistry) -> None:
    reg.auth, reg.token_expires_in = "bearer", 1  # under the safety margin: never reused
    with RegistryClient(auth=AuthConfig(username="alice", password="secret")) as c:
        c.resolve(parse(f"{reg.host}/a/b:v1"))
        c.resolve(parse(f"{reg.host}/a/b:v1"))
    assert reg.tokens_issued >= 2


def test_bearer_anonymous_is_pull_access_denied(reg: FakeRegistry) -> None:
    reg.auth = "bearer"
    with pytest.raises(errdefs.NotFound) as ei:
        _resolve(reg)
    assert str(ei.value) == (
        f"pull access denied for {reg.host}/a/b, repository does not exist or may require 'docker login': "
        "denied: requested access to the resource is denied"
    )


def test_bearer_wrong_password(reg: FakeRegistry) -> None:
    reg.auth = "bearer"
    with pytest.raises(errdefs.Unauthorized) as ei:
        _resolve(reg, AuthConfig(username="alice", password="nope"))
    assert str(ei.value) == (
        f'Get "http://{reg.host}/v2/a/b/manifests/v1": unauthorized: incorrect username or password'
    )


def test_identity_token_uses_oauth_post(reg: FakeRegistry) -> None:
    reg.auth = "bearer"
    _resolve(reg, AuthConfig(identity_token="refresh-me"))
    [post] = [s for s in reg.requests_to("/token") if s.method == "POST"]
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    with pytest.raises(errdefs.Unauthorized):
        _resolve(reg, AuthConfig(identity_token="stale"))


def test_registry_token_is_used_directly(reg: FakeRegistry) -> None:
    reg.auth = "bearer"
    _resolve(reg, AuthConfig(registry_token="good-token"))
    assert reg.requests_to("/token") == []


def test_auth_header_round_trip(reg: FakeRegistry) -> None:
    import base64

    reg.auth = "basic"
    header = base64.urlsafe_b64encode(json.dumps({"username": "alice", "password": "secret"}).encode())
    _resolve(reg, AuthConfig.from_header(header.decode().rstrip("=")))


def test_identity_token_falls_back_to_get_without_oauth(reg: FakeRegistry) -> None:
    reg.auth, reg.oauth = "bearer", False
    _resolve(reg, AuthConfig(username="alice", password="secret", identity_token="refresh-me"))
    assert [s.method for s in reg.requests_to("/token")] == ["POST", "GET"]
