"""X-Registry-Auth decoding, config.json lookup and credential helpers (fake helper on PATH)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from sampan import errdefs
from sampan.distribution.auth import AuthConfig, config_path, load_docker_config_auth, normalize_host


def _header(doc: object, *, urlsafe: bool = True, pad: bool = True) -> str:
    raw = json.dumps(doc).encode()
    text = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
    return text if pad else text.rstrip("=")


def test_from_header_variants() -> None:
    doc = {"username": "alice", "password": "s3cr?t>>", "serveraddress": "reg:5000", "email": "a@b"}
    for urlsafe in (True, False):
        for pad in (True, False):
            conf = AuthConfig.from_header(_header(doc, urlsafe=urlsafe, pad=pad))
            assert conf == AuthConfig(username="alice", password="s3cr?t>>", server_address="reg:5000",
                                      email="a@b")


def test_from_header_tokens_and_case_insensitive_keys() -> None:
    conf = AuthConfig.from_header(_header({"IdentityToken": "refresh", "RegistryToken": "tok", "X": 1}))
    assert conf is not None
    assert conf.identity_token == "refresh"
    assert conf.registry_token == "tok"


def test_from_header_empty_means_anonymous() -> None:
    assert AuthConfig.from_header("") is None
    assert AuthConfig.from_header(_header({})) is None
    assert AuthConfig.from_header(_header({"serveraddress": "x"})) is None


@pytest.mark.parametrize("value", ["!!!notbase64", _header([1, 2]), base64.b64encode(b"{nope").decode()])
def test_from_header_invalid(value: str) -> None:
    with pytest.raises(errdefs.InvalidArgument, match="invalid X-Registry-Auth header"):
        AuthConfig.from_header(value)


def test_credentials_decodes_auth_field() -> None:
    conf = AuthConfig(auth=base64.b64encode(b"bob:pa:ss").decode())
    assert conf.credentials() == ("bob", "pa:ss")
    assert AuthConfig(username="u", password="p", auth="junk").credentials() == ("u", "p")
    assert AuthConfig(auth="%%%").credentials() == ("", "")


def test_normalize_host() -> None:
    assert normalize_host("https://index.docker.io/v1/") == "docker.io"
    assert normalize_host("registry-1.docker.io") == "docker.io"
    assert normalize_host("http://reg.example:5000/v2") == "reg.example:5000"


def _write_config(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_config_auths(tmp_path: Path) -> None:
    path = _write_config(tmp_path, {"auths": {
        "https://index.docker.io/v1/": {"auth": _b64("hubuser:hubpw")},
        "http://reg.example:5000": {"auth": _b64("u:p"), "email": "e"},
        "other:1": {"identitytoken": "refresh"},
        "empty:1": {},
    }})
    hub = load_docker_config_auth("docker.io", path)
    assert hub is not None and hub.credentials() == ("hubuser", "hubpw")
    assert hub.username == "hubuser"
    reg = load_docker_config_auth("reg.example:5000", str(tmp_path))  # a directory works too
    assert reg is not None and (reg.username, reg.password, reg.email) == ("u", "p", "e")
    other = load_docker_config_auth("other:1", path)
    assert other is not None and other.identity_token == "refresh"
    assert load_docker_config_auth("empty:1", path) is None
    assert load_docker_config_auth("unknown:1", path) is None


def test_config_missing_or_broken(tmp_path: Path) -> None:
    assert load_docker_config_auth("docker.io", str(tmp_path / "nope.json")) is None
    (tmp_path / "bad.json").write_text("{not json")
    assert load_docker_config_auth("docker.io", str(tmp_path / "bad.json")) is None


def test_config_path_uses_docker_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert config_path() == str(tmp_path / "config.json")
    _write_config(tmp_path, {"auths": {"r:1": {"auth": _b64("a:b")}}})
    conf = load_docker_config_auth("r:1")
    assert conf is not None and conf.credentials() == ("a", "b")


def _fake_helper(bindir: Path, name: str, answers: dict[str, dict[str, str]]) -> Path:
    """A docker-credential-<name> script answering `get` from a table (exit 1 when unknown)."""
    log = bindir / f"{name}.log"
    script = bindir / f"docker-credential-{name}"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 2\n'
        "read server\n"
        f'echo "$server" >> {log}\n'
        'case "$server" in\n'
        + "".join(f"  '{k}') echo '{json.dumps(v)}' ;;\n" for k, v in answers.items())
        + "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return log


def test_credential_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    log = _fake_helper(bindir, "fake", {
        "https://index.docker.io/v1/": {"ServerURL": "x", "Username": "hub", "Secret": "hubsecret"},
        "tok:1": {"ServerURL": "tok:1", "Username": "<token>", "Secret": "refresh-token"},
    })
    _fake_helper(bindir, "special", {"special:1": {"Username": "sp", "Secret": "sps"}})
    path = _write_config(tmp_path, {
        "credsStore": "fake",
        "credHelpers": {"special:1": "special", "gone:1": "notinstalled"},
        "auths": {"fallback:1": {"auth": _b64("fb:pw")}},
    })
    hub = load_docker_config_auth("docker.io", path)
    assert hub is not None and (hub.username, hub.password) == ("hub", "hubsecret")
    tok = load_docker_config_auth("tok:1", path)
    assert tok is not None and tok.identity_token == "refresh-token" and not tok.username
    sp = load_docker_config_auth("special:1", path)
    assert sp is not None and (sp.username, sp.password) == ("sp", "sps")
    fb = load_docker_config_auth("fallback:1", path)  # helper has nothing: the file's auths answer
    assert fb is not None and fb.credentials() == ("fb", "pw")
    assert load_docker_config_auth("gone:1", path) is None  # missing helper binary is ignored
    assert "https://index.docker.io/v1/" in log.read_text().splitlines()
