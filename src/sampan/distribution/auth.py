"""Registry credentials: the X-Registry-Auth header and `~/.docker/config.json`.

The docker CLI sends credentials to the daemon as base64url JSON in X-Registry-Auth; people
also keep them in config.json (`auths`, or a credential helper program). Both end up as one
`AuthConfig`, which the registry client turns into Basic or Bearer authorization.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from sampan.errdefs import InvalidArgument

log = logging.getLogger(__name__)

#: The key under which docker.io credentials live in config.json and credential helpers.
INDEX_SERVER = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_HELPER_TIMEOUT = 30.0

# X-Registry-Auth JSON key (lower-cased; Go decodes keys case-insensitively) -> field name
_HEADER_KEYS = {
    "username": "username",
    "password": "password",
    "auth": "auth",
    "email": "email",
    "serveraddress": "server_address",
    "identitytoken": "identity_token",
    "registrytoken": "registry_token",
}


@dataclass
class AuthConfig:
    """Credentials for one registry, with Docker's field meanings."""

    username: str = ""
    password: str = ""
    auth: str = ""  # base64("user:pass"), as stored in config.json
    identity_token: str = ""  # an OAuth refresh token
    registry_token: str = ""  # a bearer token used as is
    server_address: str = ""
    email: str = ""

    @classmethod
    def from_header(cls, value: str) -> AuthConfig | None:
        """Decode an X-Registry-Auth header; None when it is empty or carries nothing."""
        value = (value or "").strip()
        if not value:
            return None
        try:
            raw = _b64decode(value)
            doc = json.loads(raw)
        except (ValueError, binascii.Error) as e:
            raise InvalidArgument(f"invalid X-Registry-Auth header: {e}") from e
        if not isinstance(doc, dict):
            raise InvalidArgument("invalid X-Registry-Auth header: not a JSON object")
        fields: dict[str, str] = {}
        for key, val in doc.items():
            name = _HEADER_KEYS.get(str(key).lower())
            if name is not None and isinstance(val, str):
                fields[name] = val
        conf = cls(**fields)
        return None if conf.is_empty() else conf

    def is_empty(self) -> bool:
        return not (self.username or self.password or self.auth or self.identity_token
                    or self.registry_token)

    def credentials(self) -> tuple[str, str]:
        """(username, password), decoding `auth` when the plain fields are empty."""
        if self.username or self.password or not self.auth:
            return self.username, self.password
        try:
            user, _, pw = _b64decode(self.auth).decode().partition(":")
        except (ValueError, binascii.Error):
            log.debug("ignoring undecodable auth field for %s", self.server_address)
            return "", ""
        return user, pw


def _b64decode(text: str) -> bytes:
    """Decode base64url or standard base64, with or without padding."""
    text = text.strip().replace("+", "-").replace("/", "_")
    text += "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode("ascii"))


def config_path(path: str | None = None) -> str:
    """Where config.json is: `path` (a file or a directory), $DOCKER_CONFIG, or ~/.docker."""
    if path:
        return os.path.join(path, "config.json") if os.path.isdir(path) else path
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def normalize_host(address: str) -> str:
    """Docker's ConvertToHostname: drop the scheme and any path; Hub aliases become docker.io."""
    for prefix in ("http://", "https://"):
        if address.startswith(prefix):
            address = address[len(prefix):]
            break
    host = address.split("/", 1)[0]
    return "docker.io" if host in _DOCKER_HUB_ALIASES else host


def server_address_for(host: str) -> str:
    """The key credentials for `host` are stored under."""
    return INDEX_SERVER if normalize_host(host) == "docker.io" else host


def load_docker_config_auth(host: str, path: str | None = None) -> AuthConfig | None:
    """Credentials for a registry host from config.json (credential helpers first, as Docker)."""
    file = config_path(path)
    try:
        with open(file, "rb") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("cannot read docker config %s: %s", file, e)
        return None
    if not isinstance(doc, dict):
        return None
    want = normalize_host(host)
    helpers = doc.get("credHelpers") or {}
    helper = ""
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if normalize_host(str(key)) == want and isinstance(name, str):
                helper = name
                break
    if not helper and isinstance(doc.get("credsStore"), str):
        helper = doc["credsStore"]
    if helper:
        conf = run_credential_helper(helper, server_address_for(want))
        if conf is not None:
            return conf
    return _from_auths(doc.get("auths"), want)


def _from_auths(auths: Any, want: str) -> AuthConfig | None:
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if normalize_host(str(key)) != want or not isinstance(entry, dict):
            continue
        conf = AuthConfig(
            username=str(entry.get("username") or ""),
            password=str(entry.get("password") or ""),
            auth=str(entry.get("auth") or ""),
            identity_token=str(entry.get("identitytoken") or ""),
            registry_token=str(entry.get("registrytoken") or ""),
            server_address=str(key),
            email=str(entry.get("email") or ""),
        )
        if conf.auth and not conf.username:
            conf.username, conf.password = conf.credentials()
        if not conf.is_empty():
            return conf
    return None


def run_credential_helper(name: str, server_address: str) -> AuthConfig | None:
    """Ask `docker-credential-<name> get`; a missing helper or unknown server gives None."""
    prog = f"docker-credential-{name}"
    try:
        proc = subprocess.run(
            [prog, "get"], input=server_address.encode(), capture_output=True,
            timeout=_HELPER_TIMEOUT, check=False,
        )
    except FileNotFoundError:
        log.debug("credential helper %s not installed; ignoring it", prog)
        return None
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("credential helper %s failed: %s", prog, e)
        return None
    if proc.returncode != 0:
        log.debug("credential helper %s has nothing for %s: %s", prog, server_address,
                  proc.stdout.decode(errors="replace").strip() or proc.stderr.decode(errors="replace"))
        return None
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        log.warning("credential helper %s printed invalid JSON", prog)
        return None
    if not isinstance(doc, dict):
        return None
    user = str(doc.get("Username") or "")
    secret = str(doc.get("Secret") or "")
    if user == "<token>":
        return AuthConfig(identity_token=secret, server_address=server_address)
    if not user and not secret:
        return None
    return AuthConfig(username=user, password=secret, server_address=server_address)
