"""Registry credentials from ~/.docker/config.json, encoded for the X-Registry-Auth header.

Only the `auths` entries are read (no credential helpers): a few lines here keep the CLI
from importing the distribution package.
"""

from __future__ import annotations

import base64
import json
import os

DOCKER_IO_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


def config_dir(override: str | None = None) -> str:
    """--config, else DOCKER_CONFIG, else ~/.docker."""
    if override:
        return override
    env = os.environ.get("DOCKER_CONFIG")
    if env:
        return env
    return os.path.join(os.path.expanduser("~"), ".docker")


def load_config(directory: str | None = None) -> dict[str, object]:
    """config.json as a dict; a missing or unreadable file is an empty config."""
    path = os.path.join(config_dir(directory), "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _strip_scheme(key: str) -> str:
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key.split("/", 1)[0]


def credentials_for(registry: str, config: dict[str, object]) -> dict[str, str] | None:
    """{username, password, serveraddress} for a registry host, or None."""
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return None
    wanted = {registry}
    if registry in DOCKER_IO_KEYS:
        wanted = {"index.docker.io", "docker.io", "registry-1.docker.io"}
    for key, entry in auths.items():
        if not isinstance(entry, dict) or _strip_scheme(key) not in wanted:
            continue
        username = str(entry.get("username", ""))
        password = str(entry.get("password", ""))
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                username, _, password = base64.b64decode(encoded).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
        if not username and not entry.get("identitytoken"):
            continue
        creds = {"username": username, "password": password, "serveraddress": key}
        if entry.get("identitytoken"):
            creds["identitytoken"] = str(entry["identitytoken"])
        return creds
    return None


def encode_auth(creds: dict[str, str] | None) -> str:
    """The X-Registry-Auth value: base64url of the JSON credentials (`{}` when none)."""
    raw = json.dumps(creds or {}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def registry_auth_header(registry: str, config: dict[str, object]) -> str:
    return encode_auth(credentials_for(registry, config))
